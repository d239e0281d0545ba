// The ServiceProfile objects `tsmesh profile` prints (linkerd.io/v1alpha2), named as the destination
// service looks them up: SERVICE.NAMESPACE.svc.CLUSTER_DOMAIN in the Service's namespace.
import { dnsLabelProblem, MeshError, MeshErrorCode } from '@tsmesh/core';
import { stringify as toYaml } from 'yaml';

export interface ResponseClass {
  condition: { status: { min: number; max: number } };
  isFailure: boolean;
}

export interface RouteSpec {
  name: string;
  condition: { method: string; pathRegex: string };
  responseClasses?: ResponseClass[];
  isRetryable?: boolean;
  timeout?: string;
}

export interface ServiceProfile {
  apiVersion: 'linkerd.io/v1alpha2';
  kind: 'ServiceProfile';
  metadata: { name: string; namespace: string };
  spec: { routes: RouteSpec[] };
}

export interface ProfileTarget {
  readonly service: string;
  readonly namespace: string;
  readonly clusterDomain: string;
}

/** Checks the Service name (a DNS-1035 label) and namespace (a DNS-1123 label), as linkerd does. */
export function checkProfileTarget(target: ProfileTarget): void {
  const service =
    dnsLabelProblem(target.service) ??
    (/^[a-z]/.test(target.service) ? undefined : 'must start with a letter');
  if (service) {
    throw new MeshError(MeshErrorCode.InvalidArgument, `invalid service "${target.service}": ${service}`, {
      where: 'SERVICE',
      hint: 'the name of a Kubernetes Service: lower-case letters, digits and -, starting with a letter',
    });
  }
  const namespace = dnsLabelProblem(target.namespace);
  if (namespace) {
    throw new MeshError(
      MeshErrorCode.InvalidArgument,
      `invalid namespace "${target.namespace}": ${namespace}`,
      {
        where: '-n',
        hint: 'lower-case letters, digits and -',
      },
    );
  }
}

export function serviceProfile(target: ProfileTarget, routes: RouteSpec[]): ServiceProfile {
  return {
    apiVersion: 'linkerd.io/v1alpha2',
    kind: 'ServiceProfile',
    metadata: {
      name: `${target.service}.${target.namespace}.svc.${target.clusterDomain}`,
      namespace: target.namespace,
    },
    spec: { routes },
  };
}

/** `regexp.QuoteMeta`: every regular-expression metacharacter escaped. */
export function quoteRegex(text: string): string {
  return text.replace(/[\\.+*?()|[\]{}^$]/g, '\\$&');
}

export function formatServiceProfile(profile: ServiceProfile): string {
  return toYaml(profile, { lineWidth: 0 });
}
