// `tsmesh diagnostics proxy-metrics RESOURCE` and `controller-metrics`: Prometheus text scraped
// straight from proxies' admin ports (port `linkerd-admin`) and the control plane's admin ports
// (port `admin-http`), one `# POD name (i of n)` section each, as linkerd prints them.
import { createHash } from 'node:crypto';
import { MeshError, MeshErrorCode } from '@tsmesh/core';
import { CoreKinds, type KubeObject } from '@tsmesh/kube';
import { describeError } from '../command-errors.js';
import type { ClusterSession } from './cluster-session.js';
import { getFromPod, portsNamed, type PodRoute } from './pod-http.js';
import { parseWorkloadRef, podsOf } from './workload-pods.js';

/** The proxy container's admin port name (linkerd's ProxyAdminPortName). */
export const PROXY_ADMIN_PORT_NAME = 'linkerd-admin';
/** The control-plane containers' admin port name. */
export const CONTROLLER_ADMIN_PORT_NAME = 'admin-http';

export interface ScrapeResult {
  readonly pod: string;
  readonly container: string;
  readonly metrics?: string;
  readonly error?: string;
}

export interface ScrapeOptions {
  readonly route: PodRoute;
  readonly timeoutMs: number;
}

async function scrapePods(
  session: ClusterSession,
  pods: readonly KubeObject[],
  portName: string,
  options: ScrapeOptions,
): Promise<ScrapeResult[]> {
  const jobs: Promise<ScrapeResult>[] = [];
  for (const pod of pods) {
    const name = pod.metadata?.name ?? '';
    const phase = (pod as { status?: { phase?: string } }).status?.phase;
    if (phase !== 'Running') {
      jobs.push(
        Promise.resolve({ pod: name, container: '', error: `pod not running (phase ${phase ?? 'unknown'})` }),
      );
      continue;
    }
    const ports = portsNamed(pod, portName);
    if (ports.length === 0) {
      jobs.push(Promise.resolve({ pod: name, container: '', error: `no container port named ${portName}` }));
      continue;
    }
    for (const { container, port } of ports) {
      jobs.push(
        getFromPod(pod, port, '/metrics', { kubeConfig: session.kubeConfig, ...options }).then(
          (metrics) => ({ pod: name, container, metrics }),
          (err: unknown) => ({ pod: name, container, error: describeError(err) }),
        ),
      );
    }
  }
  const results = await Promise.all(jobs);
  return results.sort((a, b) => a.pod.localeCompare(b.pod) || a.container.localeCompare(b.container));
}

/** Label values that name peers, hashed by --obfuscate (linkerd's list). */
const OBFUSCATED_LABELS = [
  'authority',
  'client_id',
  'server_id',
  'target_addr',
  'dst_service',
  'dst_namespace',
];
const OBFUSCATE_PATTERN = new RegExp(`\\b(${OBFUSCATED_LABELS.join('|')})="((?:[^"\\\\]|\\\\.)*)"`, 'g');

export function obfuscateMetrics(text: string): string {
  return text.replace(
    OBFUSCATE_PATTERN,
    (_all, label: string, value: string) =>
      `${label}="${createHash('sha256').update(value).digest('hex').slice(0, 10)}"`,
  );
}

export function formatProxyMetrics(results: readonly ScrapeResult[], obfuscate = false): string {
  return results
    .map((r, i) => {
      const head = `#\n# POD ${r.pod} (${i + 1} of ${results.length})\n#\n`;
      if (r.error !== undefined) return `${head}# ERROR ${r.error}\n`;
      return head + (obfuscate ? obfuscateMetrics(r.metrics ?? '') : (r.metrics ?? ''));
    })
    .join('');
}

export function formatControllerMetrics(results: readonly ScrapeResult[]): string {
  return results
    .map((r, i) => {
      const head = `#\n# POD ${r.pod} (${i + 1} of ${results.length})\n`;
      if (r.error !== undefined) return `${head}# ERROR ${r.error}\n`;
      return `${head}# CONTAINER ${r.container} \n#\n${r.metrics ?? ''}`;
    })
    .join('');
}

export async function proxyMetrics(
  session: ClusterSession,
  resourceArgs: readonly string[],
  options: ScrapeOptions,
): Promise<ScrapeResult[]> {
  const ref = parseWorkloadRef(resourceArgs);
  const pods = await podsOf(session.client, session.namespace, ref);
  if (pods.length === 0) {
    throw new MeshError(
      MeshErrorCode.NotFound,
      `${ref.kind.kind} ${session.namespace}/${ref.name} has no pods`,
      {
        where: 'RESOURCE',
        hint: 'is it scaled to zero? kubectl get pods -n ' + session.namespace,
      },
    );
  }
  return scrapePods(session, pods, PROXY_ADMIN_PORT_NAME, options);
}

export async function controllerMetrics(
  session: ClusterSession,
  controllerNamespace: string,
  options: ScrapeOptions,
): Promise<ScrapeResult[]> {
  const pods = await session.client.list(CoreKinds.Pod, { namespace: controllerNamespace });
  const withAdmin = pods.items.filter((p) => portsNamed(p, CONTROLLER_ADMIN_PORT_NAME).length > 0);
  if (withAdmin.length === 0) {
    throw new MeshError(
      MeshErrorCode.NotFound,
      `no control-plane pods with a ${CONTROLLER_ADMIN_PORT_NAME} port in namespace ${controllerNamespace}`,
      { where: '--controller-namespace', hint: 'is the control plane installed there? run tsmesh check' },
    );
  }
  return scrapePods(session, withAdmin, CONTROLLER_ADMIN_PORT_NAME, options);
}
