// What the tests on the one-node cluster share: bounded polling with the last observation, a
// description of the pods for when a wait gets stuck, what the end-to-end suites need built, and
// their ways into a cluster (kubectl, the built CLI, a pod's proxy metrics, a script in a pod).
import { existsSync, readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { runCommand } from '../../src/cluster/run-command.js';
import { clusterUnsupportedReason, type Cluster, type TsmeshImageComponent } from '../../src/index.js';

/** The built CLI (`tsmesh`) the end-to-end suites run. */
export const CLI_MAIN = fileURLToPath(new URL('../../../cli/dist/main.js', import.meta.url));

/** The version `tsmesh install` renders into image tags (the cli package's). */
export const TSMESH_IMAGE_TAG = (
  JSON.parse(readFileSync(new URL('../../../cli/package.json', import.meta.url), 'utf8')) as {
    version: string;
  }
).version;

/** The images of what `tsmesh install` renders (control plane and proxy): every e2e suite builds them. */
export const INSTALL_IMAGE_COMPONENTS: readonly TsmeshImageComponent[] = [
  'proxy',
  'identity',
  'destination',
  'policy',
  'injector',
];

/**
 * Why an end-to-end suite on the cluster cannot run here: the host cannot run a cluster (not root,
 * packages missing) or a package the images are made from is not built. Undefined when it can.
 */
export async function e2eSkipReason(
  components: readonly TsmeshImageComponent[],
): Promise<string | undefined> {
  const unsupported = await clusterUnsupportedReason();
  if (unsupported) return unsupported;
  const notBuilt = [
    CLI_MAIN,
    ...components.map((c) => fileURLToPath(new URL(`../../../${c}/dist/main.js`, import.meta.url))),
  ]
    .filter((p) => !existsSync(p))
    .map((p) => p.replace(/.*packages\//, 'packages/'));
  return notBuilt.length > 0
    ? `not built: ${notBuilt.join(', ')} (run pnpm exec nx run @tsmesh/cli:build)`
    : undefined;
}

/** `kubectl ARGS` with the cluster's admin kubeconfig: its stdout (fails with kubectl's stderr). */
export async function kubectlOut(cluster: Cluster, ...args: string[]): Promise<string> {
  return (await cluster.kubectl(args, { timeoutMs: 120_000 })).stdout;
}

/** `kubectl apply [FLAGS] -f -` of `manifests`. */
export async function applyManifests(cluster: Cluster, manifests: string, ...flags: string[]): Promise<void> {
  await cluster.kubectl(['apply', ...flags, '-f', '-'], { input: manifests, timeoutMs: 120_000 });
}

/**
 * The built CLI against the cluster: `tsmesh --kubeconfig <cluster's> ARGS`, its stdout; fails with
 * the exit code and the whole output (`name` says which cluster, when there are several).
 */
export async function runTsmesh(
  cluster: Cluster,
  args: readonly string[],
  options: { timeoutMs?: number; name?: string } = {},
): Promise<string> {
  const r = await runCommand(process.execPath, [CLI_MAIN, '--kubeconfig', cluster.kubeconfigPath, ...args], {
    timeoutMs: options.timeoutMs ?? 60_000,
    allowFailure: true,
  });
  if (r.code !== 0) {
    const where = options.name ? ` (${options.name})` : '';
    throw new Error(`tsmesh ${args.join(' ')}${where} exited ${r.code}:\n${r.stdout}${r.stderr}`);
  }
  return r.stdout;
}

/** The name of the first pod of `ns` matching the label `selector`. */
export async function firstPod(cluster: Cluster, ns: string, selector: string): Promise<string> {
  return (
    await kubectlOut(
      cluster,
      '-n',
      ns,
      'get',
      'pods',
      '-l',
      selector,
      '-o',
      'jsonpath={.items[0].metadata.name}',
    )
  ).trim();
}

/** The metric lines named `name` of that pod's proxy (`:4191/metrics`), read through the apiserver's pod proxy. */
export async function proxyMetrics(
  cluster: Cluster,
  ns: string,
  selector: string,
  name: string,
): Promise<string[]> {
  const pod = await firstPod(cluster, ns, selector);
  const text = await kubectlOut(
    cluster,
    'get',
    '--raw',
    `/api/v1/namespaces/${ns}/pods/${pod}:4191/proxy/metrics`,
  );
  return text.split('\n').filter((l) => l.startsWith(`${name}{`));
}

/**
 * Runs `node -e SCRIPT` in the app container (`main`) of `deploy/<deployment>` in `ns`: its stdout,
 * or `exit <code>: <output>` when it fails.
 */
export async function nodeExec(
  cluster: Cluster,
  ns: string,
  deployment: string,
  script: string,
  timeoutMs = 30_000,
): Promise<string> {
  const r = await cluster.kubectl(
    ['-n', ns, 'exec', `deploy/${deployment}`, '-c', 'main', '--', 'node', '-e', script],
    { allowFailure: true, timeoutMs },
  );
  return r.code === 0 ? r.stdout : `exit ${r.code}: ${r.stdout}${r.stderr}`;
}

/** A `node -e` script that fetches `url` once and prints `<status> <l5d-proxy-error> <body>`, or the error. */
export function fetchOnceScript(url: string): string {
  return `fetch('${url}').then(async r => console.log(r.status, r.headers.get('l5d-proxy-error'), await r.text()), e => console.log(String(e.cause ?? e)))`;
}

/**
 * For `eventually`: true when exactly `count` pods of `ns` (matching `selector`, if given) are Ready,
 * each with a `linkerd-proxy` container (the injector's); else what kubectl showed.
 */
export async function meshedPodsReady(
  cluster: Cluster,
  ns: string,
  count: number,
  selector?: string,
): Promise<true | string> {
  const out = await kubectlOut(
    cluster,
    '-n',
    ns,
    'get',
    'pods',
    ...(selector ? ['-l', selector] : []),
    '-o',
    'jsonpath={range .items[*]}{.metadata.name} {.spec.initContainers[*].name},{.spec.containers[*].name} {.status.conditions[?(@.type=="Ready")].status}{"\\n"}{end}',
  );
  const lines = out.trim().split('\n').filter(Boolean);
  return (
    (lines.length === count && lines.every((l) => /linkerd-proxy/.test(l) && l.endsWith(' True'))) || out
  );
}

export interface EventuallyOptions {
  /** The default bound of one wait (a call may pass its own). */
  readonly timeoutMs: number;
  readonly intervalMs: number;
  /** What a stuck wait appends to its message (e.g. the pods: describePods). */
  readonly diagnose?: () => Promise<string>;
  /** How much of the last observation the message keeps. */
  readonly lastChars?: number;
}

export type Eventually = (
  what: string,
  fn: () => Promise<boolean | string>,
  timeoutMs?: number,
) => Promise<void>;

/** `eventually(what, fn)` polls `fn` until it returns true; fails with `what` and the last observation. */
export function createEventually(options: EventuallyOptions): Eventually {
  return async (what, fn, timeoutMs = options.timeoutMs) => {
    const deadline = Date.now() + timeoutMs;
    let last = '';
    for (;;) {
      try {
        const r = await fn();
        if (r === true) return;
        last = String(r);
      } catch (err) {
        last = (err as Error).message;
      }
      if (Date.now() > deadline) {
        const seen = options.lastChars === undefined ? last : last.slice(0, options.lastChars);
        const diagnosis = options.diagnose ? await options.diagnose() : '';
        throw new Error(`${what}: not within ${timeoutMs} ms (last: ${seen})${diagnosis}`);
      }
      await new Promise((r) => setTimeout(r, options.intervalMs));
    }
  };
}

/** Every pod of the cluster, and `kubectl describe` (its last 40 lines) of those not Ready. */
export async function describePods(cluster: Cluster): Promise<string> {
  const pods = await cluster.kubectl(['get', 'pods', '-A', '-o', 'wide'], { allowFailure: true });
  const notReady = await cluster.kubectl(
    [
      'get',
      'pods',
      '-A',
      '-o',
      'jsonpath={range .items[*]}{.metadata.namespace}/{.metadata.name} {.status.conditions[?(@.type=="Ready")].status}{"\\n"}{end}',
    ],
    { allowFailure: true },
  );
  let out = `\n--- kubectl get pods -A -o wide\n${pods.stdout}${pods.stderr}`;
  for (const line of notReady.stdout.split('\n')) {
    const [ref, ready] = line.split(' ');
    if (!ref || ready === 'True') continue;
    const [ns, name] = ref.split('/') as [string, string];
    const d = await cluster.kubectl(['-n', ns, 'describe', 'pod', name], { allowFailure: true });
    out += `\n--- kubectl describe pod -n ${ns} ${name}\n${d.stdout.split('\n').slice(-40).join('\n')}`;
  }
  return out;
}

/** A Deployment running `node ARGS` in the node-base image (imported, never pulled) on port 8080. */
export function nodeDeployment(o: {
  namespace: string;
  name: string;
  image: string;
  args: string[];
  terminationGracePeriodSeconds: number;
}): Record<string, unknown> {
  return {
    apiVersion: 'apps/v1',
    kind: 'Deployment',
    metadata: { name: o.name, namespace: o.namespace },
    spec: {
      replicas: 1,
      selector: { matchLabels: { app: o.name } },
      template: {
        metadata: { labels: { app: o.name } },
        spec: {
          serviceAccountName: o.name,
          terminationGracePeriodSeconds: o.terminationGracePeriodSeconds,
          containers: [
            {
              name: 'main',
              image: o.image,
              imagePullPolicy: 'Never',
              command: ['node'],
              args: o.args,
              ports: [{ containerPort: 8080 }],
            },
          ],
        },
      },
    },
  };
}
