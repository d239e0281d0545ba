// Kubernetes-style plain objects (as parsed from YAML or JSON) → policy domain types. Every error is
// a MeshError (`invalid_argument`) whose `where` names the resource and field, e.g.
// `Server emojivoto/web-http: spec.port`.
import { DefaultInboundPolicy } from '../vocabulary/index.js';
import { parseIdentityMatch } from './identity-match.js';
import { parseIpNetwork, type NetworkMatch } from './ip-network.js';
import { parseLabelSelector } from './label-selector.js';
import {
  GATEWAY_GROUP,
  POLICY_GROUP,
  type AuthenticationRef,
  type AuthorizationPolicy,
  type AuthorizationTarget,
  type BackendRef,
  type ClientAuthentication,
  type GrpcRoute,
  type GrpcRouteMatch,
  type HeaderModifier,
  type HttpLocalRateLimitPolicy,
  type HttpRoute,
  type HttpRouteFilter,
  type HttpRouteMatch,
  type MeshTLSAuthentication,
  type NamespaceInfo,
  type NetworkAuthentication,
  type ParentRef,
  type PolicyResource,
  type ProxyProtocol,
  type ResourceMeta,
  type Server,
  type ServerAuthorization,
  type StringMatch,
  type Workload,
} from './model.js';
import {
  booleanField,
  integerField,
  isObject,
  listField,
  objectField,
  oneOf,
  parseMeta,
  parsePortRef,
  stringField,
  type PlainObject,
} from './parse-fields.js';
import { invalidPolicy } from './policy-error.js';

export interface PolicyParseOptions {
  /** Namespace for objects whose metadata has none. Default `default`. */
  readonly defaultNamespace?: string;
  /** Label for error messages, e.g. the file name. */
  readonly source?: string;
}

const PROXY_PROTOCOLS: readonly ProxyProtocol[] = ['unknown', 'HTTP/1', 'HTTP/2', 'gRPC', 'opaque', 'TLS'];
const DEFAULT_POLICIES = Object.values(DefaultInboundPolicy);

/** The kinds `parsePolicyResource` understands, keyed `group/kind` (core kinds have group ''). */
export const SUPPORTED_POLICY_KINDS: readonly string[] = [
  `${POLICY_GROUP}/Server`,
  `${POLICY_GROUP}/ServerAuthorization`,
  `${POLICY_GROUP}/AuthorizationPolicy`,
  `${POLICY_GROUP}/MeshTLSAuthentication`,
  `${POLICY_GROUP}/NetworkAuthentication`,
  `${POLICY_GROUP}/HTTPRoute`,
  `${POLICY_GROUP}/HTTPLocalRateLimitPolicy`,
  `${GATEWAY_GROUP}/HTTPRoute`,
  `${GATEWAY_GROUP}/GRPCRoute`,
  'workload.linkerd.io/ExternalWorkload',
  '/Pod',
  '/Namespace',
];

function groupOf(apiVersion: string): string {
  const slash = apiVersion.indexOf('/');
  return slash < 0 ? '' : apiVersion.slice(0, slash);
}

/**
 * Parses one object. Returns undefined for kinds the policy engine does not use (Services,
 * Deployments, ...) so that a whole directory of manifests can be fed through.
 */
export function parsePolicyResource(
  value: unknown,
  options: PolicyParseOptions = {},
): PolicyResource | undefined {
  const origin = options.source ? `${options.source}: ` : '';
  if (!isObject(value)) throw invalidPolicy(`${origin}object`, 'a Kubernetes object must be a map');
  const apiVersion = stringField(value, 'apiVersion', `${origin}object`, true);
  const kind = stringField(value, 'kind', `${origin}object`, true);
  const group = groupOf(apiVersion);
  const key = `${group}/${kind}`;
  if (!SUPPORTED_POLICY_KINDS.includes(key)) return undefined;
  const meta = parseMeta(
    value,
    `${origin}${kind}`,
    options.defaultNamespace ?? 'default',
    kind !== 'Namespace',
  );
  const at = `${origin}${kind} ${meta.namespace ? `${meta.namespace}/` : ''}${meta.name}: spec`;
  const spec = kind === 'Namespace' ? {} : (objectField(value, 'spec', at.slice(0, -6), true) as PlainObject);
  switch (kind) {
    case 'Server':
      return parseServer(meta, spec, at);
    case 'ServerAuthorization':
      return parseServerAuthorization(meta, spec, at);
    case 'AuthorizationPolicy':
      return parseAuthorizationPolicy(meta, spec, at);
    case 'MeshTLSAuthentication':
      return parseMeshTLSAuthentication(meta, spec, at);
    case 'NetworkAuthentication':
      return {
        kind: 'NetworkAuthentication',
        meta,
        networks: parseNetworks(spec, 'networks', at, true),
      } satisfies NetworkAuthentication;
    case 'HTTPRoute':
      return parseHttpRoute(group, meta, spec, at);
    case 'GRPCRoute':
      return parseGrpcRoute(group, meta, spec, at);
    case 'HTTPLocalRateLimitPolicy':
      return parseRateLimit(meta, spec, at);
    case 'Pod':
      return parsePod(meta, spec, at);
    case 'ExternalWorkload':
      return parseExternalWorkload(meta, spec, at);
    case 'Namespace':
      return { kind: 'Namespace', meta } satisfies NamespaceInfo;
    default:
      return undefined;
  }
}

/** Parses many objects (e.g. every document of a YAML stream), skipping unrelated kinds. */
export function parsePolicyResources(
  values: readonly unknown[],
  options: PolicyParseOptions = {},
): PolicyResource[] {
  const out: PolicyResource[] = [];
  for (const value of values) {
    const resource = parsePolicyResource(value, options);
    if (resource) out.push(resource);
  }
  return out;
}

function parseServer(meta: ResourceMeta, spec: PlainObject, at: string): Server {
  const pod = spec.podSelector;
  const external = spec.externalWorkloadSelector;
  if ((pod === undefined || pod === null) === (external === undefined || external === null)) {
    throw invalidPolicy(at, 'exactly one of podSelector and externalWorkloadSelector is required');
  }
  const usesPod = pod !== undefined && pod !== null;
  const selector = usesPod
    ? parseLabelSelector(pod, `${at}.podSelector`)
    : parseLabelSelector(external, `${at}.externalWorkloadSelector`);
  return {
    kind: 'Server',
    meta,
    workloadKind: usesPod ? 'Pod' : 'ExternalWorkload',
    selector,
    port: parsePortRef(spec.port, `${at}.port`),
    proxyProtocol: oneOf(
      stringField(spec, 'proxyProtocol', at),
      PROXY_PROTOCOLS,
      `${at}.proxyProtocol`,
      'unknown',
    ),
    accessPolicy: oneOf(
      stringField(spec, 'accessPolicy', at),
      DEFAULT_POLICIES,
      `${at}.accessPolicy`,
      'deny',
    ),
  };
}

function parseNetworks(parent: PlainObject, key: string, at: string, required: boolean): NetworkMatch[] {
  const list = listField(parent, key, at, required);
  if (required && list.length === 0) throw invalidPolicy(`${at}.${key}`, 'must list at least one network');
  return list.map((item, i) => {
    const where = `${at}.${key}[${i}]`;
    if (!isObject(item)) throw invalidPolicy(where, 'must be an object with a cidr');
    const cidr = stringField(item, 'cidr', where, true);
    const net = parseIpNetwork(cidr, `${where}.cidr`);
    const except = listField(item, 'except', where).map((e, j) => {
      if (typeof e !== 'string') throw invalidPolicy(`${where}.except[${j}]`, 'must be a CIDR string');
      return parseIpNetwork(e, `${where}.except[${j}]`);
    });
    return { net, except };
  });
}

function parseServerAuthorization(meta: ResourceMeta, spec: PlainObject, at: string): ServerAuthorization {
  const server = objectField(spec, 'server', at, true) as PlainObject;
  const name = stringField(server, 'name', `${at}.server`);
  const hasSelector = server.selector !== undefined && server.selector !== null;
  if ((name === undefined) === !hasSelector) {
    throw invalidPolicy(`${at}.server`, 'exactly one of name and selector is required');
  }
  const client = objectField(spec, 'client', at, true) as PlainObject;
  const networks = parseNetworks(client, 'networks', `${at}.client`, false);
  let authentication: ClientAuthentication;
  const mtls = objectField(client, 'meshTLS', `${at}.client`);
  if (booleanField(client, 'unauthenticated', `${at}.client`)) {
    authentication = { kind: 'unauthenticated' };
  } else if (mtls) {
    const where = `${at}.client.meshTLS`;
    if (booleanField(mtls, 'unauthenticatedTLS', where)) {
      authentication = { kind: 'tls-unauthenticated' };
    } else {
      const identities = listField(mtls, 'identities', where).map((id, i) => {
        if (typeof id !== 'string') throw invalidPolicy(`${where}.identities[${i}]`, 'must be a string');
        return parseIdentityMatch(id, `${where}.identities[${i}]`);
      });
      const serviceAccounts = listField(mtls, 'serviceAccounts', where).map((sa, i) => {
        const w = `${where}.serviceAccounts[${i}]`;
        if (!isObject(sa)) throw invalidPolicy(w, 'must be an object with a name');
        return {
          name: stringField(sa, 'name', w, true),
          namespace: stringField(sa, 'namespace', w) ?? meta.namespace,
        };
      });
      if (identities.length === 0 && serviceAccounts.length === 0) {
        throw invalidPolicy(
          where,
          'authorizes no clients',
          'list identities or serviceAccounts, or set unauthenticatedTLS',
        );
      }
      authentication = { kind: 'mesh-tls', identities, serviceAccounts };
    }
  } else {
    throw invalidPolicy(
      `${at}.client`,
      'no client authentication configured',
      'set unauthenticated: true or meshTLS',
    );
  }
  return {
    kind: 'ServerAuthorization',
    meta,
    server:
      name !== undefined
        ? { name }
        : { selector: parseLabelSelector(server.selector, `${at}.server.selector`) },
    networks,
    authentication,
  };
}

function parseTargetRef(meta: ResourceMeta, spec: PlainObject, at: string): AuthorizationTarget {
  const ref = objectField(spec, 'targetRef', at, true) as PlainObject;
  const where = `${at}.targetRef`;
  const kind = stringField(ref, 'kind', where, true);
  const group = stringField(ref, 'group', where) ?? '';
  const name = stringField(ref, 'name', where, true);
  const ns = stringField(ref, 'namespace', where);
  if (ns !== undefined && ns !== meta.namespace) {
    throw invalidPolicy(
      `${where}.namespace`,
      'must be the policy’s own namespace',
      'targets are namespace-local',
    );
  }
  const k = kind.toLowerCase();
  if (k === 'server' && group === POLICY_GROUP) return { kind: 'Server', name };
  if (k === 'httproute' && (group === POLICY_GROUP || group === GATEWAY_GROUP))
    return { kind: 'HTTPRoute', group, name };
  if (k === 'grpcroute' && group === GATEWAY_GROUP) return { kind: 'GRPCRoute', group, name };
  if (k === 'namespace' && group === '') {
    if (name !== meta.namespace) {
      throw invalidPolicy(
        `${where}.name`,
        `targets namespace ${name}`,
        `an AuthorizationPolicy may only target its own namespace (${meta.namespace})`,
      );
    }
    return { kind: 'Namespace', name };
  }
  throw invalidPolicy(
    `${where}.kind`,
    `${group ? `${group}/` : ''}${kind} is not a supported target`,
    `target a ${POLICY_GROUP} Server, an HTTPRoute, a ${GATEWAY_GROUP} GRPCRoute or the Namespace`,
  );
}

function parseAuthorizationPolicy(meta: ResourceMeta, spec: PlainObject, at: string): AuthorizationPolicy {
  const target = parseTargetRef(meta, spec, at);
  const refs: AuthenticationRef[] = listField(spec, 'requiredAuthenticationRefs', at, true).map((item, i) => {
    const where = `${at}.requiredAuthenticationRefs[${i}]`;
    if (!isObject(item)) throw invalidPolicy(where, 'must be an object');
    const kind = stringField(item, 'kind', where, true);
    const group = stringField(item, 'group', where) ?? '';
    const name = stringField(item, 'name', where, true);
    const namespace = stringField(item, 'namespace', where) ?? meta.namespace;
    const k = kind.toLowerCase();
    if (k === 'meshtlsauthentication' && group === POLICY_GROUP)
      return { kind: 'MeshTLSAuthentication', name, namespace };
    if (k === 'networkauthentication' && group === POLICY_GROUP)
      return { kind: 'NetworkAuthentication', name, namespace };
    if (k === 'serviceaccount' && group === '') return { kind: 'ServiceAccount', name, namespace };
    throw invalidPolicy(
      `${where}.kind`,
      `${group ? `${group}/` : ''}${kind} is not a supported authentication`,
      `use ${POLICY_GROUP} MeshTLSAuthentication or NetworkAuthentication, or a core ServiceAccount`,
    );
  });
  const count = (kind: string) => refs.filter((r) => r.kind === kind).length;
  if (count('MeshTLSAuthentication') + count('ServiceAccount') > 1) {
    throw invalidPolicy(
      `${at}.requiredAuthenticationRefs`,
      'at most one MeshTLSAuthentication or ServiceAccount may be required',
    );
  }
  if (count('NetworkAuthentication') > 1) {
    throw invalidPolicy(
      `${at}.requiredAuthenticationRefs`,
      'at most one NetworkAuthentication may be required',
    );
  }
  return { kind: 'AuthorizationPolicy', meta, target, requiredAuthenticationRefs: refs };
}

function parseMeshTLSAuthentication(
  meta: ResourceMeta,
  spec: PlainObject,
  at: string,
): MeshTLSAuthentication {
  const identities = listField(spec, 'identities', at).map((id, i) => {
    if (typeof id !== 'string') throw invalidPolicy(`${at}.identities[${i}]`, 'must be a string');
    return parseIdentityMatch(id, `${at}.identities[${i}]`);
  });
  const identityRefs = listField(spec, 'identityRefs', at).map((ref, i) => {
    const where = `${at}.identityRefs[${i}]`;
    if (!isObject(ref)) throw invalidPolicy(where, 'must be an object');
    const kind = stringField(ref, 'kind', where, true);
    if (kind !== 'ServiceAccount' && kind !== 'Namespace') {
      throw invalidPolicy(`${where}.kind`, `${kind} is not supported`, 'use ServiceAccount or Namespace');
    }
    const name = stringField(ref, 'name', where, true);
    const namespace = stringField(ref, 'namespace', where) ?? meta.namespace;
    return { kind, name, namespace } as const;
  });
  if (identities.length > 0 && identityRefs.length > 0) {
    throw invalidPolicy(at, 'identities and identityRefs are mutually exclusive');
  }
  if (identities.length === 0 && identityRefs.length === 0) {
    throw invalidPolicy(at, 'authenticates no clients', 'list identities or identityRefs');
  }
  return { kind: 'MeshTLSAuthentication', meta, identities, identityRefs };
}

function parseParentRefs(
  meta: ResourceMeta,
  spec: PlainObject,
  at: string,
  defaultGroup: string,
): ParentRef[] {
  const list = listField(spec, 'parentRefs', at);
  if (list.length > 32) throw invalidPolicy(`${at}.parentRefs`, 'has more than 32 entries');
  return list.map((item, i) => {
    const where = `${at}.parentRefs[${i}]`;
    if (!isObject(item)) throw invalidPolicy(where, 'must be an object');
    return {
      group: stringField(item, 'group', where) ?? defaultGroup,
      kind: stringField(item, 'kind', where) ?? 'Gateway',
      name: stringField(item, 'name', where, true),
      namespace: stringField(item, 'namespace', where) ?? meta.namespace,
      port: integerField(item, 'port', where, { min: 1, max: 65535 }),
    };
  });
}

function parseHostnames(spec: PlainObject, at: string): string[] {
  const list = listField(spec, 'hostnames', at);
  if (list.length > 16) throw invalidPolicy(`${at}.hostnames`, 'has more than 16 entries');
  return list.map((h, i) => {
    if (
      typeof h !== 'string' ||
      !/^(\*\.)?[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$/.test(h)
    ) {
      throw invalidPolicy(
        `${at}.hostnames[${i}]`,
        `"${String(h)}" is not a hostname`,
        'use a DNS name, optionally starting with `*.`',
      );
    }
    return h;
  });
}

function checkRegex(value: string, where: string): void {
  try {
    new RegExp(value);
  } catch (err) {
    throw invalidPolicy(where, `"${value}" is not a valid regular expression`, (err as Error).message);
  }
}

function parseStringMatches(parent: PlainObject, key: string, at: string): StringMatch[] {
  return listField(parent, key, at).map((item, i) => {
    const where = `${at}.${key}[${i}]`;
    if (!isObject(item)) throw invalidPolicy(where, 'must be an object');
    const type = oneOf(
      stringField(item, 'type', where),
      ['Exact', 'RegularExpression'] as const,
      `${where}.type`,
      'Exact',
    );
    const name = stringField(item, 'name', where, true);
    const value = stringField(item, 'value', where);
    if (value === undefined) throw invalidPolicy(`${where}.value`, 'is required');
    if (type === 'RegularExpression') checkRegex(value, `${where}.value`);
    return { type, name, value };
  });
}

const METHODS = ['GET', 'HEAD', 'POST', 'PUT', 'DELETE', 'CONNECT', 'OPTIONS', 'TRACE', 'PATCH'] as const;

function parseHttpMatch(item: unknown, where: string): HttpRouteMatch {
  if (!isObject(item)) throw invalidPolicy(where, 'must be an object');
  const path = objectField(item, 'path', where);
  let pathMatch: HttpRouteMatch['path'] = { type: 'PathPrefix', value: '/' };
  if (path) {
    const type = oneOf(
      stringField(path, 'type', `${where}.path`),
      ['Exact', 'PathPrefix', 'RegularExpression'] as const,
      `${where}.path.type`,
      'PathPrefix',
    );
    const value = stringField(path, 'value', `${where}.path`) ?? '/';
    if (type === 'RegularExpression') checkRegex(value, `${where}.path.value`);
    else if (!value.startsWith('/'))
      throw invalidPolicy(`${where}.path.value`, `"${value}" must start with /`);
    pathMatch = { type, value };
  }
  const method = stringField(item, 'method', where);
  if (method !== undefined) oneOf(method, METHODS, `${where}.method`, 'GET');
  return {
    path: pathMatch,
    headers: parseStringMatches(item, 'headers', where),
    queryParams: parseStringMatches(item, 'queryParams', where),
    method,
  };
}

function parseHeaderModifier(value: PlainObject, where: string): HeaderModifier {
  const pairs = (key: string) =>
    listField(value, key, where).map((h, i) => {
      const w = `${where}.${key}[${i}]`;
      if (!isObject(h)) throw invalidPolicy(w, 'must be an object with name and value');
      return { name: stringField(h, 'name', w, true), value: stringField(h, 'value', w) ?? '' };
    });
  const remove = listField(value, 'remove', where).map((r, i) => {
    if (typeof r !== 'string') throw invalidPolicy(`${where}.remove[${i}]`, 'must be a header name');
    return r;
  });
  return { set: pairs('set'), add: pairs('add'), remove };
}

function parseFilters(parent: PlainObject, at: string, allowRedirect: boolean): HttpRouteFilter[] {
  return listField(parent, 'filters', at).map((item, i) => {
    const where = `${at}.filters[${i}]`;
    if (!isObject(item)) throw invalidPolicy(where, 'must be an object');
    const type = stringField(item, 'type', where, true);
    if (type === 'RequestHeaderModifier' || type === 'ResponseHeaderModifier') {
      const key = type === 'RequestHeaderModifier' ? 'requestHeaderModifier' : 'responseHeaderModifier';
      const mod = objectField(item, key, where, true) as PlainObject;
      return { type, modifier: parseHeaderModifier(mod, `${where}.${key}`) };
    }
    if (type === 'RequestRedirect' && allowRedirect) {
      const w = `${where}.requestRedirect`;
      const r = objectField(item, 'requestRedirect', where, true) as PlainObject;
      const path = objectField(r, 'path', w);
      let pathMod: { type: 'ReplaceFullPath' | 'ReplacePrefixMatch'; value: string } | undefined;
      if (path) {
        const ptype = oneOf(
          stringField(path, 'type', `${w}.path`),
          ['ReplaceFullPath', 'ReplacePrefixMatch'] as const,
          `${w}.path.type`,
          'ReplaceFullPath',
        );
        const value =
          ptype === 'ReplaceFullPath'
            ? stringField(path, 'replaceFullPath', `${w}.path`, true)
            : stringField(path, 'replacePrefixMatch', `${w}.path`, true);
        pathMod = { type: ptype, value };
      }
      const status = integerField(r, 'statusCode', w, { min: 100, max: 599 }) ?? 302;
      if (status !== 301 && status !== 302)
        throw invalidPolicy(`${w}.statusCode`, `${status} is not supported`, 'use 301 or 302');
      const scheme = stringField(r, 'scheme', w);
      return {
        type: 'RequestRedirect',
        redirect: {
          scheme:
            scheme === undefined
              ? undefined
              : oneOf(scheme, ['http', 'https'] as const, `${w}.scheme`, 'http'),
          hostname: stringField(r, 'hostname', w),
          path: pathMod,
          port: integerField(r, 'port', w, { min: 1, max: 65535 }),
          statusCode: status,
        },
      };
    }
    throw invalidPolicy(
      `${where}.type`,
      `filter ${type} is not supported`,
      allowRedirect
        ? 'use RequestHeaderModifier, ResponseHeaderModifier or RequestRedirect'
        : 'use RequestHeaderModifier or ResponseHeaderModifier',
    );
  });
}

function parseBackendRefs(
  meta: ResourceMeta,
  parent: PlainObject,
  at: string,
  allowRedirect: boolean,
): BackendRef[] {
  return listField(parent, 'backendRefs', at).map((item, i) => {
    const where = `${at}.backendRefs[${i}]`;
    if (!isObject(item)) throw invalidPolicy(where, 'must be an object');
    return {
      group: stringField(item, 'group', where) ?? '',
      kind: stringField(item, 'kind', where) ?? 'Service',
      name: stringField(item, 'name', where, true),
      namespace: stringField(item, 'namespace', where) ?? meta.namespace,
      port: integerField(item, 'port', where, { min: 1, max: 65535 }),
      weight: integerField(item, 'weight', where, { min: 0, max: 1_000_000 }) ?? 1,
      filters: parseFilters(item, where, allowRedirect),
    };
  });
}

function parseHttpRoute(group: string, meta: ResourceMeta, spec: PlainObject, at: string): HttpRoute {
  const rawRules = listField(spec, 'rules', at);
  if (rawRules.length > 16) throw invalidPolicy(`${at}.rules`, 'has more than 16 rules');
  const rules = (rawRules.length === 0 ? [{}] : rawRules).map((item, i) => {
    const where = `${at}.rules[${i}]`;
    if (!isObject(item)) throw invalidPolicy(where, 'must be an object');
    const rawMatches = listField(item, 'matches', where);
    if (rawMatches.length > 8) throw invalidPolicy(`${where}.matches`, 'has more than 8 matches');
    // Gateway API: a rule without matches matches every request (PathPrefix /).
    const matches = (rawMatches.length === 0 ? [{}] : rawMatches).map((m, j) =>
      parseHttpMatch(m, `${where}.matches[${j}]`),
    );
    const timeouts = objectField(item, 'timeouts', where) ?? {};
    return {
      matches,
      filters: parseFilters(item, where, true),
      backendRefs: parseBackendRefs(meta, item, where, true),
      timeouts: {
        request: stringField(timeouts, 'request', `${where}.timeouts`),
        backendRequest: stringField(timeouts, 'backendRequest', `${where}.timeouts`),
      },
    };
  });
  return {
    kind: 'HTTPRoute',
    group,
    meta,
    parentRefs: parseParentRefs(meta, spec, at, group === POLICY_GROUP ? POLICY_GROUP : GATEWAY_GROUP),
    hostnames: parseHostnames(spec, at),
    rules,
  };
}

function parseGrpcRoute(group: string, meta: ResourceMeta, spec: PlainObject, at: string): GrpcRoute {
  const rawRules = listField(spec, 'rules', at);
  const rules = (rawRules.length === 0 ? [{}] : rawRules).map((item, i) => {
    const where = `${at}.rules[${i}]`;
    if (!isObject(item)) throw invalidPolicy(where, 'must be an object');
    const rawMatches = listField(item, 'matches', where);
    const matches: GrpcRouteMatch[] = (rawMatches.length === 0 ? [{}] : rawMatches).map((m, j) => {
      const w = `${where}.matches[${j}]`;
      if (!isObject(m)) throw invalidPolicy(w, 'must be an object');
      const method = objectField(m, 'method', w);
      let methodMatch: GrpcRouteMatch['method'];
      if (method) {
        const type = oneOf(
          stringField(method, 'type', `${w}.method`),
          ['Exact', 'RegularExpression'] as const,
          `${w}.method.type`,
          'Exact',
        );
        const service = stringField(method, 'service', `${w}.method`);
        const name = stringField(method, 'method', `${w}.method`);
        if (service === undefined && name === undefined) {
          throw invalidPolicy(`${w}.method`, 'one of service and method is required');
        }
        if (type === 'RegularExpression') {
          if (service !== undefined) checkRegex(service, `${w}.method.service`);
          if (name !== undefined) checkRegex(name, `${w}.method.method`);
        }
        methodMatch = { type, service, method: name };
      }
      return { method: methodMatch, headers: parseStringMatches(m, 'headers', w) };
    });
    return {
      matches,
      filters: parseFilters(item, where, false),
      backendRefs: parseBackendRefs(meta, item, where, false),
    };
  });
  return {
    kind: 'GRPCRoute',
    group,
    meta,
    parentRefs: parseParentRefs(meta, spec, at, GATEWAY_GROUP),
    hostnames: parseHostnames(spec, at),
    rules,
  };
}

function parseRateLimit(meta: ResourceMeta, spec: PlainObject, at: string): HttpLocalRateLimitPolicy {
  const target = objectField(spec, 'targetRef', at, true) as PlainObject;
  const kind = stringField(target, 'kind', `${at}.targetRef`, true);
  if (kind !== 'Server')
    throw invalidPolicy(`${at}.targetRef.kind`, `${kind} is not supported`, 'target a Server');
  const rps = (parent: PlainObject | undefined, where: string) =>
    parent ? integerField(parent, 'requestsPerSecond', where, { min: 1, max: 2 ** 32 - 1 }) : undefined;
  const total = rps(objectField(spec, 'total', at), `${at}.total`);
  const identity = rps(objectField(spec, 'identity', at), `${at}.identity`);
  if (total !== undefined && identity !== undefined && identity > total) {
    throw invalidPolicy(
      `${at}.identity.requestsPerSecond`,
      `${identity} exceeds total.requestsPerSecond ${total}`,
    );
  }
  const overrides = listField(spec, 'overrides', at).map((o, i) => {
    const where = `${at}.overrides[${i}]`;
    if (!isObject(o)) throw invalidPolicy(where, 'must be an object');
    const requestsPerSecond = rps(o, where);
    if (requestsPerSecond === undefined) throw invalidPolicy(`${where}.requestsPerSecond`, 'is required');
    const clientRefs = listField(o, 'clientRefs', where, true).map((c, j) => {
      const w = `${where}.clientRefs[${j}]`;
      if (!isObject(c)) throw invalidPolicy(w, 'must be an object');
      const k = stringField(c, 'kind', w, true);
      if (k !== 'ServiceAccount')
        throw invalidPolicy(`${w}.kind`, `${k} is not supported`, 'use ServiceAccount');
      return {
        name: stringField(c, 'name', w, true),
        namespace: stringField(c, 'namespace', w) ?? meta.namespace,
      };
    });
    return { requestsPerSecond, clientRefs };
  });
  return {
    kind: 'HTTPLocalRateLimitPolicy',
    meta,
    targetServer: stringField(target, 'name', `${at}.targetRef`, true),
    totalRequestsPerSecond: total,
    identityRequestsPerSecond: identity,
    overrides,
  };
}

function parsePod(meta: ResourceMeta, spec: PlainObject, at: string): Workload {
  const ports: { name: string | undefined; port: number }[] = [];
  const probes = new Map<number, string[]>();
  const containers = [...listField(spec, 'containers', at), ...listField(spec, 'initContainers', at)];
  const named = new Map<string, number>();
  const pending: { port: number | string; path: string }[] = [];
  containers.forEach((c, i) => {
    const where = `${at}.containers[${i}]`;
    if (!isObject(c)) throw invalidPolicy(where, 'must be an object');
    listField(c, 'ports', where).forEach((p, j) => {
      const w = `${where}.ports[${j}]`;
      if (!isObject(p)) throw invalidPolicy(w, 'must be an object');
      const protocol = stringField(p, 'protocol', w) ?? 'TCP';
      if (protocol !== 'TCP') return;
      const port = integerField(p, 'containerPort', w, { min: 1, max: 65535 });
      if (port === undefined) throw invalidPolicy(`${w}.containerPort`, 'is required');
      const name = stringField(p, 'name', w);
      ports.push({ name, port });
      if (name !== undefined) named.set(name, port);
    });
    for (const key of ['livenessProbe', 'readinessProbe', 'startupProbe']) {
      const probe = objectField(c, key, where);
      const get = probe && objectField(probe, 'httpGet', `${where}.${key}`);
      if (!get) continue;
      const port = parsePortRef(get.port, `${where}.${key}.httpGet.port`);
      pending.push({ port, path: stringField(get, 'path', `${where}.${key}.httpGet`) ?? '/' });
    }
  });
  for (const { port, path } of pending) {
    const number = typeof port === 'number' ? port : named.get(port);
    if (number === undefined) continue; // a probe on an undeclared named port never reaches the proxy
    const paths = probes.get(number) ?? [];
    if (!paths.includes(path)) paths.push(path);
    probes.set(number, paths);
  }
  return { kind: 'Pod', meta, ports, probePaths: probes };
}

function parseExternalWorkload(meta: ResourceMeta, spec: PlainObject, at: string): Workload {
  const ports = listField(spec, 'ports', at).map((p, i) => {
    const w = `${at}.ports[${i}]`;
    if (!isObject(p)) throw invalidPolicy(w, 'must be an object');
    const port = integerField(p, 'port', w, { min: 1, max: 65535 });
    if (port === undefined) throw invalidPolicy(`${w}.port`, 'is required');
    return { name: stringField(p, 'name', w), port };
  });
  return { kind: 'ExternalWorkload', meta, ports, probePaths: new Map() };
}
