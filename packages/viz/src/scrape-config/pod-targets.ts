// The scrape targets of meshed Pods, labelled as linkerd-viz's Prometheus scrape configuration
// (job `linkerd-proxy`) relabels them: the proxy's admin port (`linkerd-admin`, 4191) of each
// running Pod with a `linkerd-proxy` container (or native sidecar), with `namespace`, `pod`, the
// owner label from `linkerd.io/proxy-<kind>` (deployment, statefulset, …), `serviceaccount`,
// `instance` and `control_plane_ns`. Direct-scrape mode uses these so its series carry the labels
// Prometheus' series would.
import { DefaultPort } from '@tsmesh/core';
import type { KubeObject } from '@tsmesh/kube';
import { podProxyContainer } from '../meshed-pod/index.js';
import type { ScrapeTarget } from '../metrics-api/index.js';

interface PodShape {
  metadata?: { name?: string; namespace?: string; labels?: Record<string, string> };
  spec?: {
    serviceAccountName?: string;
    containers?: { name?: string; ports?: { name?: string; containerPort?: number }[] }[];
    initContainers?: { name?: string; ports?: { name?: string; containerPort?: number }[] }[];
  };
  status?: { podIP?: string; phase?: string };
}

const OWNER_PREFIX = 'linkerd.io/proxy-';

/** Prometheus' target labels of one Pod (what relabelling gives), without the address. */
export function podTargetLabels(pod: KubeObject): Record<string, string> {
  const p = pod as unknown as PodShape;
  const labels: Record<string, string> = {
    job: 'linkerd-proxy',
    namespace: p.metadata?.namespace ?? '',
    pod: p.metadata?.name ?? '',
  };
  for (const [k, v] of Object.entries(p.metadata?.labels ?? {})) {
    if (k.startsWith(OWNER_PREFIX)) labels[k.slice(OWNER_PREFIX.length).replace(/-/g, '_')] = v;
    else if (k === 'linkerd.io/control-plane-ns') labels.control_plane_ns = v;
  }
  if (p.spec?.serviceAccountName) labels.serviceaccount = p.spec.serviceAccountName;
  return labels;
}

/** Targets for the running meshed Pods of a list; others are skipped. */
export function podScrapeTargets(pods: readonly KubeObject[]): ScrapeTarget[] {
  const out: ScrapeTarget[] = [];
  for (const pod of pods) {
    const p = pod as unknown as PodShape;
    const proxy = podProxyContainer(p);
    const ip = p.status?.podIP;
    if (!proxy || !ip || (p.status?.phase && p.status.phase !== 'Running')) continue;
    const port = proxy.ports?.find((x) => x.name === 'linkerd-admin')?.containerPort ?? DefaultPort.Admin;
    const host = ip.includes(':') ? `[${ip}]` : ip;
    // `instance` is the scraped address, as Prometheus sets it.
    out.push({
      url: `http://${host}:${port}/metrics`,
      labels: { ...podTargetLabels(pod), instance: `${host}:${port}` },
    });
  }
  return out;
}
