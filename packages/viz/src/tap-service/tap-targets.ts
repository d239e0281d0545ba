// Which pods a tap reaches and what the tap service knows about an address. A pod is tappable when
// it is meshed (podProxyContainer: a `linkerd-proxy` container or native sidecar), running with an
// IP, and its proxy was given the tap identity (annotation `viz.linkerd.io/tap-enabled`, which
// linkerd-viz's tap-injector adds with LINKERD2_PROXY_TAP_SVC_NAME) unless
// `viz.linkerd.io/disable-tap: "true"` opts it out.
import { MeshError, MeshErrorCode } from '@tsmesh/core';
import type { KubeObject } from '@tsmesh/kube';
import { podProxyContainer } from '../meshed-pod/index.js';
import { podTargetLabels } from '../scrape-config/index.js';
import type { TapTarget } from './tap-query.js';

export const TAP_ENABLED_ANNOTATION = 'viz.linkerd.io/tap-enabled';
export const TAP_DISABLED_ANNOTATION = 'viz.linkerd.io/disable-tap';

interface PodShape {
  metadata?: {
    name?: string;
    namespace?: string;
    labels?: Record<string, string>;
    annotations?: Record<string, string>;
    ownerReferences?: { kind?: string; name?: string }[];
  };
  spec?: {
    serviceAccountName?: string;
    containers?: { name?: string }[];
    initContainers?: { name?: string }[];
  };
  status?: { podIP?: string; phase?: string };
}

/** A pod the tap service will open Observe on. */
export interface TapPod {
  readonly name: string;
  readonly namespace: string;
  readonly ip: string;
  /** The proxy's identity (the TLS server name the tap client checks). */
  readonly identity: string;
  /** Labels as linkerd's scrape configuration names them (namespace, pod, deployment, …). */
  readonly labels: Readonly<Record<string, string>>;
}

export interface TapPodSelection {
  readonly pods: readonly TapPod[];
  /** Matching meshed pods that opted out, and those whose proxy has no tap identity. */
  readonly disabled: readonly string[];
  readonly notEnabled: readonly string[];
}

export interface IdentityOptions {
  readonly controlPlaneNamespace?: string;
  readonly trustDomain?: string;
}

function podIdentity(p: PodShape, o: IdentityOptions): string {
  const sa = p.spec?.serviceAccountName || 'default';
  return `${sa}.${p.metadata?.namespace ?? 'default'}.serviceaccount.identity.${o.controlPlaneNamespace ?? 'linkerd'}.${o.trustDomain ?? 'cluster.local'}`;
}

/** Whether a pod belongs to a resource (by the owner labels the injector adds, or its name). */
export function podInTarget(pod: KubeObject, target: TapTarget): boolean {
  const p = pod as unknown as PodShape;
  if (target.type !== 'namespace' && p.metadata?.namespace !== target.namespace) return false;
  if (target.type === 'namespace') return !target.name || p.metadata?.namespace === target.name;
  if (!target.name) return target.type === 'pod' || podTargetLabels(pod)[target.type] !== undefined;
  if (target.type === 'pod') return p.metadata?.name === target.name;
  return podTargetLabels(pod)[target.type] === target.name;
}

export function selectTapPods(
  pods: readonly KubeObject[],
  target: TapTarget,
  o: IdentityOptions = {},
): TapPodSelection {
  const out: TapPod[] = [];
  const disabled: string[] = [];
  const notEnabled: string[] = [];
  for (const pod of pods) {
    const p = pod as unknown as PodShape;
    if (!podProxyContainer(p) || !podInTarget(pod, target)) continue;
    if (!p.status?.podIP || (p.status.phase && p.status.phase !== 'Running')) continue;
    const name = p.metadata?.name ?? '';
    const annotations = p.metadata?.annotations ?? {};
    if (annotations[TAP_DISABLED_ANNOTATION] === 'true') disabled.push(name);
    else if (annotations[TAP_ENABLED_ANNOTATION] === undefined) notEnabled.push(name);
    else
      out.push({
        name,
        namespace: p.metadata?.namespace ?? '',
        ip: p.status.podIP,
        identity: podIdentity(p, o),
        labels: podTargetLabels(pod),
      });
  }
  return { pods: out, disabled, notEnabled };
}

/** linkerd-viz's "no pods to tap" message: which pods matched but cannot be tapped, and why. */
export function noPodsError(target: TapTarget, s: TapPodSelection): MeshError {
  const lines = [`no pods to tap for ${target.type}/${target.name ?? ''} in namespace ${target.namespace}`];
  if (s.disabled.length > 0)
    lines.push(
      `${s.disabled.length} pods found with tap disabled via the ${TAP_DISABLED_ANNOTATION} annotation: ${s.disabled.join(', ')}`,
    );
  if (s.notEnabled.length > 0)
    lines.push(`${s.notEnabled.length} pods found with tap not enabled: ${s.notEnabled.join(', ')}`);
  return new MeshError(MeshErrorCode.NotFound, lines.join('; '), {
    where: 'tap',
    hint:
      s.notEnabled.length > 0
        ? 'restart these pods (after `tsmesh viz install`) to enable tap'
        : 'check the resource name and namespace; only running meshed pods can be tapped',
  });
}

/** What the tap service knows about an IP: the labels of the pod that has it. */
export function addressLabelsIndex(
  pods: readonly KubeObject[],
): (ip: string) => Record<string, string> | undefined {
  const byIp = new Map<string, Record<string, string>>();
  for (const pod of pods) {
    const ip = (pod as unknown as PodShape).status?.podIP;
    if (!ip) continue;
    const labels = { ...podTargetLabels(pod) };
    delete labels.job;
    delete labels.control_plane_ns;
    byIp.set(ip, labels);
  }
  return (ip) => byIp.get(ip);
}

/** Whether an address's labels name a resource (the `--to` filter). */
export function labelsInTarget(labels: Readonly<Record<string, string>>, target: TapTarget): boolean {
  if (target.type === 'namespace') return !target.name || labels.namespace === target.name;
  if (labels.namespace !== undefined && labels.namespace !== target.namespace) return false;
  if (target.type === 'service')
    return !target.name || labels.dst_service === target.name || labels.service === target.name;
  const value = labels[target.type];
  return target.name ? value === target.name : value !== undefined;
}
