// Route status as Linkerd's policy-controller writes it: for every parentRef that is a Server or
// a Service, an entry with controllerName `linkerd.io/policy-controller` and the conditions
// Accepted (the parent exists) and ResolvedRefs (every backend is an existing Service). Entries
// of other controllers are kept. Pure: desired status from the route object and the state.
import { GATEWAY_GROUP, POLICY_GROUP } from '@tsmesh/core';
import type { KubeObject } from '@tsmesh/kube';
import type { ClusterState } from '../indexing/index.js';

export const POLICY_CONTROLLER_NAME = 'linkerd.io/policy-controller';

export interface Condition {
  type: string;
  status: 'True' | 'False';
  reason: string;
  message: string;
  lastTransitionTime: string;
  observedGeneration?: number;
}

export interface RouteParentStatus {
  parentRef: Record<string, unknown>;
  controllerName: string;
  conditions: Condition[];
}

interface RawRef {
  group?: string;
  kind?: string;
  name?: string;
  namespace?: string;
  port?: number;
}

interface RouteObject extends KubeObject {
  spec?: { parentRefs?: RawRef[]; rules?: { backendRefs?: RawRef[] }[] };
  status?: { parents?: RouteParentStatus[] };
}

function isServer(ref: RawRef): boolean {
  return ref.kind === 'Server' && ref.group === POLICY_GROUP;
}

function isService(ref: RawRef): boolean {
  return (ref.kind === 'Service' || ref.kind === undefined) && (ref.group === '' || ref.group === 'core');
}

function sameRef(a: Record<string, unknown>, b: Record<string, unknown>): boolean {
  return JSON.stringify(a) === JSON.stringify(b);
}

/** The status.parents a route should have, reusing transition times of unchanged conditions. */
export function desiredRouteParents(
  route: KubeObject,
  routeGroup: string,
  state: ClusterState,
  now: () => string = () => new Date().toISOString().replace(/\.\d{3}Z$/, 'Z'),
): RouteParentStatus[] {
  const r = route as RouteObject;
  const namespace = r.metadata?.namespace ?? 'default';
  const generation = r.metadata?.generation;
  const existing = r.status?.parents ?? [];
  const defaultGroup = routeGroup === POLICY_GROUP ? POLICY_GROUP : GATEWAY_GROUP;
  const ours: RouteParentStatus[] = [];
  // ResolvedRefs: every backendRef a Service that exists.
  let resolved: { status: 'True' | 'False'; reason: string; message: string } = {
    status: 'True',
    reason: 'ResolvedRefs',
    message: '',
  };
  for (const rule of r.spec?.rules ?? []) {
    for (const b of rule.backendRefs ?? []) {
      const kind = b.kind ?? 'Service';
      const group = b.group ?? '';
      if (!(kind === 'Service' && (group === '' || group === 'core'))) {
        resolved = {
          status: 'False',
          reason: 'InvalidKind',
          message: `backend ${group}/${kind} ${b.name} is not a Service`,
        };
      } else if (b.name && !state.service(b.namespace ?? namespace, b.name)) {
        if (resolved.status === 'True')
          resolved = {
            status: 'False',
            reason: 'BackendNotFound',
            message: `Service ${b.namespace ?? namespace}/${b.name} not found`,
          };
      }
    }
  }
  for (const raw of r.spec?.parentRefs ?? []) {
    const ref: RawRef = { ...raw, group: raw.group ?? defaultGroup, kind: raw.kind ?? 'Gateway' };
    if (!isServer(ref) && !isService(ref)) continue;
    const parentNs = ref.namespace ?? namespace;
    const exists = isServer(ref)
      ? state.resources.some(
          (x) => x.kind === 'Server' && x.meta.namespace === parentNs && x.meta.name === ref.name,
        )
      : state.service(parentNs, ref.name ?? '') !== undefined;
    const parentRef: Record<string, unknown> = { group: ref.group, kind: ref.kind, name: ref.name };
    if (raw.namespace !== undefined) parentRef.namespace = raw.namespace;
    if (raw.port !== undefined) parentRef.port = raw.port;
    const previous = existing.find(
      (p) => p.controllerName === POLICY_CONTROLLER_NAME && sameRef(p.parentRef, parentRef),
    );
    const condition = (
      type: string,
      status: 'True' | 'False',
      reason: string,
      message: string,
    ): Condition => {
      const before = previous?.conditions.find((c) => c.type === type);
      const c: Condition = {
        type,
        status,
        reason,
        message,
        lastTransitionTime: before && before.status === status ? before.lastTransitionTime : now(),
      };
      if (generation !== undefined) c.observedGeneration = generation;
      return c;
    };
    ours.push({
      parentRef,
      controllerName: POLICY_CONTROLLER_NAME,
      conditions: [
        exists
          ? condition('Accepted', 'True', 'Accepted', '')
          : condition(
              'Accepted',
              'False',
              'NoMatchingParent',
              `${ref.kind} ${parentNs}/${ref.name} not found`,
            ),
        isServer(ref)
          ? condition('ResolvedRefs', 'True', 'ResolvedRefs', '')
          : condition('ResolvedRefs', resolved.status, resolved.reason, resolved.message),
      ],
    });
  }
  const others = existing.filter((p) => p.controllerName !== POLICY_CONTROLLER_NAME);
  return [...others, ...ours];
}

/** Whether two parent lists differ (ignoring order of nothing: both come from desiredRouteParents). */
export function parentsDiffer(
  a: readonly RouteParentStatus[] | undefined,
  b: readonly RouteParentStatus[],
): boolean {
  return JSON.stringify(a ?? []) !== JSON.stringify(b);
}
