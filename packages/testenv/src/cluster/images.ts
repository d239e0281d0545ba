import { createHash } from 'node:crypto';
import { access, mkdir, readFile, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { repositoryImagesDir } from '../binaries.js';
import { TestEnvError } from '../test-env-error.js';
import { runCommand } from './run-command.js';

/** The image archives a cluster node imports, and their references. */
export interface ClusterImages {
  readonly dir: string;
  readonly pause: { readonly ref: string; readonly archive: string };
  /** The machine's Node.js with its libraries and /bin/sh: `node -e …` pods, tsmesh images' base. */
  readonly nodeBase: { readonly ref: string; readonly archive: string };
  readonly coredns: { readonly ref: string; readonly archive: string };
}

export const clusterImagesScript: string = join(repositoryImagesDir, 'build-cluster-images.sh');
export const tsmeshImagesScript: string = join(repositoryImagesDir, 'build-tsmesh-images.sh');

/** The tsmesh components images/build-tsmesh-images.sh packs (packages/<component>). */
export type TsmeshImageComponent =
  | 'proxy'
  | 'identity'
  | 'destination'
  | 'policy'
  | 'injector'
  | 'cli'
  /** The service mirror (`tsmesh-service-mirror`), `ghcr.io/tsmesh/multicluster`. */
  | 'multicluster';

/**
 * Builds the pause, node-base and CoreDNS image archives with images/build-cluster-images.sh into
 * `<cacheDir>/images/<key>/`, where the key hashes the script, pause.c, the Node.js binary's
 * version and size, and the CoreDNS binary's size and mtime. Cached: a second call is a stat.
 */
export async function ensureClusterImages(options: {
  cacheDir: string;
  corednsBinary: string;
}): Promise<ClusterImages> {
  const hash = createHash('sha256');
  hash.update(await readFile(clusterImagesScript));
  hash.update(await readFile(join(repositoryImagesDir, 'lib', 'oci-archive.sh')));
  hash.update(await readFile(join(repositoryImagesDir, 'pause', 'pause.c')));
  hash.update(process.version);
  hash.update(String((await stat(process.execPath)).size));
  const dns = await stat(options.corednsBinary);
  hash.update(`${dns.size}:${dns.mtimeMs}`);
  const dir = join(options.cacheDir, 'images', hash.digest('hex').slice(0, 16));
  const envFile = join(dir, 'images.env');
  try {
    await access(envFile);
  } catch {
    // Under a lock, checked again inside it: two clusters starting at once (in one process or two)
    // would otherwise write the same archives while the other imports them.
    await mkdir(join(options.cacheDir, 'images'), { recursive: true });
    await runCommand(
      'flock',
      [
        join(options.cacheDir, 'images', '.build.lock'),
        'bash',
        '-c',
        '[ -f "$1" ] || exec bash "$2" "$3" "$4"',
        'build-cluster-images',
        envFile,
        clusterImagesScript,
        dir,
        options.corednsBinary,
      ],
      { timeoutMs: 300_000 },
    );
  }
  const env = new Map(
    (await readFile(envFile, 'utf8'))
      .split('\n')
      .filter((l) => l.includes('='))
      .map((l) => [l.slice(0, l.indexOf('=')), l.slice(l.indexOf('=') + 1)] as const),
  );
  const ref = (key: string): string => {
    const value = env.get(key);
    if (!value) throw new TestEnvError('BUILD_FAILED', `${envFile} has no ${key}`);
    return value;
  };
  return {
    dir,
    pause: { ref: ref('PAUSE_IMAGE'), archive: join(dir, 'pause.oci.tar') },
    nodeBase: { ref: ref('NODE_BASE_IMAGE'), archive: join(dir, 'node-base.oci.tar') },
    coredns: { ref: ref('COREDNS_IMAGE'), archive: join(dir, 'coredns.oci.tar') },
  };
}

/**
 * Builds tsmesh's images (`ghcr.io/tsmesh/<component>:<tag>`, the names `tsmesh install` renders)
 * as OCI archives in `outDir` with images/build-tsmesh-images.sh: the node-base layer plus the
 * component packed by `pnpm deploy --prod`. The packages must be built (their `dist/`). Returns the
 * archive and reference per component.
 */
export async function buildTsmeshImages(options: {
  outDir: string;
  tag: string;
  components: readonly TsmeshImageComponent[];
}): Promise<Record<string, { ref: string; archive: string }>> {
  const { stdout } = await runCommand(
    'bash',
    [tsmeshImagesScript, options.outDir, options.tag, ...options.components],
    { timeoutMs: 600_000 },
  );
  const result: Record<string, { ref: string; archive: string }> = {};
  for (const line of stdout.split('\n')) {
    const eq = line.indexOf('=');
    if (eq <= 0) continue;
    const component = line.slice(0, eq);
    result[component] = {
      ref: line.slice(eq + 1),
      archive: join(options.outDir, `tsmesh-${component}.oci.tar`),
    };
  }
  return result;
}

/**
 * Imports OCI archives into containerd's `k8s.io` namespace (the CRI plugin's) and unpacks them for
 * the overlayfs snapshotter, so that pods with `imagePullPolicy: Never` find them.
 */
export async function importImages(containerdSocket: string, archives: readonly string[]): Promise<void> {
  for (const archive of archives) {
    await runCommand(
      'ctr',
      ['--address', containerdSocket, '--namespace', 'k8s.io', 'images', 'import', archive],
      { timeoutMs: 120_000 },
    );
  }
}
