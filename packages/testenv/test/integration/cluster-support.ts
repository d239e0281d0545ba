// What the tests on the one-node cluster share: bounded polling with the last observation, a
// description of the pods for when a wait gets stuck, and what the end-to-end suites need built.
import { existsSync, readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { clusterUnsupportedReason, type Cluster, type TsmeshImageComponent } from '../../src/index.js';

/** The built CLI (`tsmesh`) the end-to-end suites run. */
export const CLI_MAIN = fileURLToPath(new URL('../../../cli/dist/main.js', import.meta.url));

/** The version `tsmesh install` renders into image tags (the cli package's). */
export const TSMESH_IMAGE_TAG = (
  JSON.parse(readFileSync(new URL('../../../cli/package.json', import.meta.url), 'utf8')) as {
    version: string;
  }
).version;

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
