// A tap request: which pods to tap (a resource in a namespace) and which of their requests to
// show (`--to`, method, path prefix, authority, scheme), at most `maxRps` requests a second — the
// parameters of `linkerd viz tap` and of linkerd-viz's TapByResourceRequest. Parsed once from
// the CLI's flags or the HTTP API's query string into a frozen object.
import { MeshError, MeshErrorCode, type tap } from '@tsmesh/core';

/** The resource types tap selects pods by (linkerd-viz's tap API resources), singular. */
export const TAP_RESOURCE_TYPES = [
  'namespace',
  'pod',
  'deployment',
  'statefulset',
  'daemonset',
  'replicaset',
  'replicationcontroller',
  'job',
  'cronjob',
  'service',
] as const;
export type TapResourceType = (typeof TAP_RESOURCE_TYPES)[number];

const SHORT: Readonly<Record<TapResourceType, string>> = {
  namespace: 'ns',
  pod: 'po',
  deployment: 'deploy',
  statefulset: 'sts',
  daemonset: 'ds',
  replicaset: 'rs',
  replicationcontroller: 'rc',
  job: 'job',
  cronjob: 'cj',
  service: 'svc',
};

const ALIASES: Readonly<Record<string, TapResourceType>> = Object.fromEntries(
  TAP_RESOURCE_TYPES.flatMap((t) => [
    [t, t],
    [`${t}s`, t],
    [SHORT[t], t],
  ]),
);

/** `deployment` → `deploy`, as linkerd prints resources. */
export const shortResourceName = (type: TapResourceType): string => SHORT[type];
/** `deployment` → `deployments`: the tap.linkerd.io resource (and RBAC resource) name. */
export const pluralResourceName = (type: TapResourceType): string => `${type}s`;

export interface TapTarget {
  readonly type: TapResourceType;
  readonly name?: string;
  readonly namespace: string;
}

export interface TapQuery {
  readonly resource: TapTarget;
  readonly to?: TapTarget;
  readonly method?: string;
  /** A path prefix. */
  readonly path?: string;
  readonly authority?: string;
  readonly scheme?: 'http' | 'https';
  /** Requests a second over all tapped pods (linkerd's default: 100). */
  readonly maxRps: number;
  /** Ask the proxies for request headers. */
  readonly extract: boolean;
}

export const DEFAULT_MAX_RPS = 100;

function bad(message: string, where: string, hint?: string): MeshError {
  return new MeshError(MeshErrorCode.InvalidArgument, message, { where, ...(hint ? { hint } : {}) });
}

/** `deploy/web`, `deploy` (+ optional name), `ns/emojivoto` → a TapTarget; a clear error otherwise. */
export function parseTapTarget(text: string, namespace: string, where = 'resource'): TapTarget {
  const [typeText, name, extra] = text.split('/');
  const type = ALIASES[(typeText ?? '').toLowerCase()];
  if (!type || extra !== undefined || name === '')
    throw bad(
      `unknown resource ${JSON.stringify(text)}`,
      where,
      `use TYPE or TYPE/NAME with TYPE one of ${TAP_RESOURCE_TYPES.map((t) => SHORT[t]).join(', ')}`,
    );
  if (type === 'namespace') return name ? { type, name, namespace: name } : { type, namespace };
  return name ? { type, name, namespace } : { type, namespace };
}

export interface TapQueryInput {
  resource: string;
  namespace?: string;
  toResource?: string;
  toNamespace?: string;
  method?: string;
  path?: string;
  authority?: string;
  scheme?: string;
  maxRps?: number | string;
  extract?: boolean | string;
}

/** Validates and freezes a tap request (the CLI's flags or the HTTP query). */
export function parseTapQuery(input: TapQueryInput): TapQuery {
  const namespace = input.namespace || 'default';
  const resource = parseTapTarget(input.resource, namespace);
  if (resource.type === 'service')
    throw bad(
      'services can only be a --to resource',
      'resource',
      'tap the deployment behind it, or use --to svc/NAME',
    );
  const to = input.toResource
    ? parseTapTarget(input.toResource, input.toNamespace || namespace, 'to')
    : undefined;
  const maxRps = input.maxRps === undefined || input.maxRps === '' ? DEFAULT_MAX_RPS : Number(input.maxRps);
  if (!Number.isFinite(maxRps) || maxRps <= 0 || maxRps > 10_000)
    throw bad(
      `bad max-rps ${JSON.stringify(input.maxRps)}`,
      'max-rps',
      'a number of requests a second, 0 < r <= 10000',
    );
  let scheme: 'http' | 'https' | undefined;
  if (input.scheme) {
    const s = input.scheme.toLowerCase();
    if (s !== 'http' && s !== 'https')
      throw bad(`unknown scheme ${JSON.stringify(input.scheme)}`, 'scheme', 'http or https');
    scheme = s;
  }
  if (input.path && !input.path.startsWith('/'))
    throw bad(
      `path ${JSON.stringify(input.path)} does not start with /`,
      'path',
      'a path prefix such as /api',
    );
  return Object.freeze({
    resource,
    ...(to ? { to } : {}),
    ...(input.method ? { method: input.method.toUpperCase() } : {}),
    ...(input.path ? { path: input.path } : {}),
    ...(input.authority ? { authority: input.authority } : {}),
    ...(scheme ? { scheme } : {}),
    maxRps,
    extract: input.extract === true || input.extract === 'true',
  });
}

const REGISTERED_METHODS = ['GET', 'POST', 'PUT', 'DELETE', 'PATCH', 'OPTIONS', 'CONNECT', 'HEAD', 'TRACE'];

/**
 * The proxy-side filter (ObserveRequest.match): an `all` of the HTTP matches, as linkerd-viz's tap
 * builds it (authority exact, path prefix). `to` is checked by the tap service on the event's
 * destination (hydrated from the pod list), so it works whatever labels the proxy knows.
 */
export function observeMatch(q: TapQuery): tap.ObserveRequest.Match.$Properties {
  const matches: tap.ObserveRequest.Match.$Properties[] = [];
  if (q.scheme) matches.push({ http: { scheme: { registered: q.scheme === 'http' ? 0 : 1 } } });
  if (q.method) {
    const i = REGISTERED_METHODS.indexOf(q.method);
    matches.push({ http: { method: i >= 0 ? { registered: i } : { unregistered: q.method } } });
  }
  if (q.authority) matches.push({ http: { authority: { exact: q.authority } } });
  if (q.path) matches.push({ http: { path: { prefix: q.path } } });
  return { all: { matches } };
}
