// Who may tap what. In a cluster: Kubernetes RBAC, asked with a SubjectAccessReview for the
// caller's user and groups — verb `watch` on group `tap.linkerd.io` version `v1alpha1`, resource
// `<type>s` with subresource `tap`, in the namespace, named — exactly what linkerd-viz's tap API
// server asks (so the same Roles and ClusterRoles, e.g. `linkerd-linkerd-viz-tap-admin`, work).
// In local mode: a bearer token only the state directory's owner can read.
import { timingSafeEqual } from 'node:crypto';
import type { KubeApiClient } from '@tsmesh/kube';
import { pluralResourceName, type TapTarget } from './tap-query.js';

export interface TapCaller {
  readonly user: string;
  readonly groups: readonly string[];
}

export interface TapDecision {
  readonly allowed: boolean;
  /** Why (the SubjectAccessReview's reason, or what was missing). */
  readonly reason: string;
}

export type TapAuthorizer = (
  caller: TapCaller,
  target: TapTarget,
  signal?: AbortSignal,
) => Promise<TapDecision>;

export const TAP_API_GROUP = 'tap.linkerd.io';
export const TAP_API_VERSION = 'v1alpha1';

/** The SubjectAccessReview resource attributes linkerd-viz's tap checks for a target. */
export function tapResourceAttributes(target: TapTarget) {
  return {
    namespace: target.namespace,
    verb: 'watch',
    group: TAP_API_GROUP,
    version: TAP_API_VERSION,
    resource: pluralResourceName(target.type),
    subresource: 'tap',
    ...(target.type !== 'namespace' && target.name ? { name: target.name } : {}),
  };
}

interface SubjectAccessReviewStatus {
  status?: { allowed?: boolean; denied?: boolean; reason?: string; evaluationError?: string };
}

export function createSubjectAccessReviewAuthorizer(client: KubeApiClient): TapAuthorizer {
  return async (caller, target, signal) => {
    const attributes = tapResourceAttributes(target);
    const review = await client.request<SubjectAccessReviewStatus>({
      method: 'POST',
      path: '/apis/authorization.k8s.io/v1/subjectaccessreviews',
      body: {
        apiVersion: 'authorization.k8s.io/v1',
        kind: 'SubjectAccessReview',
        spec: { user: caller.user, groups: [...caller.groups], resourceAttributes: attributes },
      },
      ...(signal ? { signal } : {}),
      timeoutMs: 10_000,
    });
    const s = review.status ?? {};
    if (s.allowed) return { allowed: true, reason: s.reason ?? 'allowed by RBAC' };
    const what = `${attributes.verb} ${attributes.resource}/${attributes.subresource}${attributes.name ? ` ${attributes.name}` : ''} in namespace ${attributes.namespace} (group ${TAP_API_GROUP})`;
    return {
      allowed: false,
      reason: `user ${JSON.stringify(caller.user)} cannot ${what}${s.reason ? `: ${s.reason}` : ''}${s.evaluationError ? ` (${s.evaluationError})` : ''}`,
    };
  };
}

/** Local mode: one caller (`local-operator`) holding the token; anyone else is refused. */
export function tokenMatches(expected: string, presented: string | undefined): boolean {
  if (!presented) return false;
  const a = Buffer.from(expected);
  const b = Buffer.from(presented);
  return a.length === b.length && timingSafeEqual(a, b);
}
