// linkerd-viz's tap-injector: on pod CREATE, a meshed pod's `linkerd-proxy` container gets
// LINKERD2_PROXY_TAP_SVC_NAME (the tap service's identity, the only client its tap server accepts)
// and the pod the `viz.linkerd.io/tap-enabled` annotation, unless it (or its namespace) opts out
// with `viz.linkerd.io/disable-tap: "true"` or the proxy already has the variable. Pure: a JSON
// patch from the pod (and its namespace's annotations).
import { ProxyEnv } from '@tsmesh/core';
import { jsonPointer as pointer, type JsonPatchOperation, type KubeObject } from '@tsmesh/kube';
import { TAP_DISABLED_ANNOTATION, TAP_ENABLED_ANNOTATION } from '../tap-service/index.js';

interface PodShape {
  metadata?: { annotations?: Record<string, string> };
  spec?: {
    containers?: { name?: string; env?: { name?: string }[] }[];
    initContainers?: { name?: string; env?: { name?: string }[] }[];
  };
}

/** The patch that enables tap on a pod; empty when there is nothing to do. */
export function tapInjectionPatch(
  pod: KubeObject,
  tapServiceName: string,
  namespaceAnnotations: Readonly<Record<string, string>> = {},
): JsonPatchOperation[] {
  const p = pod as unknown as PodShape;
  const annotations = p.metadata?.annotations ?? {};
  if (
    annotations[TAP_DISABLED_ANNOTATION] === 'true' ||
    namespaceAnnotations[TAP_DISABLED_ANNOTATION] === 'true'
  )
    return [];
  // The proxy is a container, or a native sidecar (an init container) where the cluster has them.
  for (const field of ['containers', 'initContainers'] as const) {
    const list = p.spec?.[field] ?? [];
    const i = list.findIndex((c) => c.name === 'linkerd-proxy');
    if (i < 0) continue;
    const env = list[i]?.env;
    if (env?.some((e) => e.name === ProxyEnv.TapSvcName)) return [];
    const ops: JsonPatchOperation[] = [];
    const value = { name: ProxyEnv.TapSvcName, value: tapServiceName };
    if (env) ops.push({ op: 'add', path: pointer('spec', field, i, 'env', '-'), value });
    else ops.push({ op: 'add', path: pointer('spec', field, i, 'env'), value: [value] });
    if (!p.metadata?.annotations) ops.push({ op: 'add', path: '/metadata/annotations', value: {} });
    ops.push({ op: 'add', path: pointer('metadata', 'annotations', TAP_ENABLED_ANNOTATION), value: 'true' });
    return ops;
  }
  return [];
}
