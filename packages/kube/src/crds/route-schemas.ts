// HTTPRoute and GRPCRoute schemas. Linkerd's policy.linkerd.io HTTPRoute is a copy of an early
// Gateway API HTTPRoute (parent refs default to group policy.linkerd.io, at most 8 matches per rule,
// no CEL rules); the Gateway API routes (v1) add URL rewrites, mirrors, extension refs and CEL
// rules that tie a filter's `type` to the field it configures. One builder serves both, with the
// differences as options.
import {
  CONTROLLER_NAME,
  DNS1123_SUBDOMAIN,
  GATEWAY_DURATION,
  HTTP_HEADER_NAME,
  WILDCARD_HOSTNAME,
  condition,
  groupField,
  kindField,
  nameField,
  namespaceField,
} from './common-schemas.js';
import {
  array,
  int32,
  integer,
  object,
  string,
  stringEnum,
  type JsonSchemaProps,
  type ValidationRule,
} from './json-schema.js';

export const HTTP_METHODS = [
  'GET',
  'HEAD',
  'POST',
  'PUT',
  'DELETE',
  'CONNECT',
  'OPTIONS',
  'TRACE',
  'PATCH',
] as const;
export const HTTP_PATH_MATCH_TYPES = ['Exact', 'PathPrefix', 'RegularExpression'] as const;
export const VALUE_MATCH_TYPES = ['Exact', 'RegularExpression'] as const;

export interface RouteFlavor {
  /** Default `parentRefs[].group`. */
  parentGroup: string;
  /** CEL rules as Gateway API has them (Linkerd's own HTTPRoute has none). */
  cel: boolean;
}

function port(description: string): JsonSchemaProps {
  return int32({ minimum: 1, maximum: 65535, description });
}

export function parentRef(flavor: RouteFlavor): JsonSchemaProps {
  return object(
    {
      group: groupField({ default: flavor.parentGroup }),
      kind: kindField({
        default: 'Gateway',
        description: 'Kind of the parent: Gateway, Service, Server or EgressNetwork.',
      }),
      name: nameField(),
      namespace: namespaceField(),
      port: port('The port of the parent this route attaches to.'),
      sectionName: string({
        minLength: 1,
        maxLength: 253,
        pattern: DNS1123_SUBDOMAIN,
        description: 'A section of the parent, e.g. a Gateway listener name.',
      }),
    },
    { required: ['name'] },
  );
}

export function parentRefs(flavor: RouteFlavor): JsonSchemaProps {
  return array(parentRef(flavor), {
    maxItems: 32,
    description: 'The parents (Gateways, Services, Servers, EgressNetworks) this route attaches to.',
  });
}

export function hostnames(): JsonSchemaProps {
  return array(string({ minLength: 1, maxLength: 253, pattern: WILDCARD_HOSTNAME }), {
    maxItems: 16,
    description: 'Host header values this route matches; a leading `*.` label matches any subdomain.',
  });
}

function headerPair(): JsonSchemaProps {
  return object(
    {
      name: string({
        minLength: 1,
        maxLength: 256,
        pattern: HTTP_HEADER_NAME,
        description: 'Header name (case-insensitive).',
      }),
      value: string({ minLength: 1, maxLength: 4096, description: 'Header value.' }),
    },
    { required: ['name', 'value'] },
  );
}

function headerPairs(description: string): JsonSchemaProps {
  return array(headerPair(), {
    maxItems: 16,
    'x-kubernetes-list-type': 'map',
    'x-kubernetes-list-map-keys': ['name'],
    description,
  });
}

export function headerModifier(): JsonSchemaProps {
  return object({
    set: headerPairs('Headers to set, replacing any existing value.'),
    add: headerPairs('Headers to append to any existing values.'),
    remove: array(string({ minLength: 1, maxLength: 256 }), {
      maxItems: 16,
      'x-kubernetes-list-type': 'set',
      description: 'Header names to remove.',
    }),
  });
}

function pathModifier(flavor: RouteFlavor): JsonSchemaProps {
  const rules: ValidationRule[] = [
    {
      rule: "self.type == 'ReplaceFullPath' ? has(self.replaceFullPath) : !has(self.replaceFullPath)",
      message: 'replaceFullPath must be set exactly when type is ReplaceFullPath',
    },
    {
      rule: "self.type == 'ReplacePrefixMatch' ? has(self.replacePrefixMatch) : !has(self.replacePrefixMatch)",
      message: 'replacePrefixMatch must be set exactly when type is ReplacePrefixMatch',
    },
  ];
  return object(
    {
      type: stringEnum(['ReplaceFullPath', 'ReplacePrefixMatch'], {
        description: 'Which kind of path rewrite.',
      }),
      replaceFullPath: string({ maxLength: 1024, description: 'The new path.' }),
      replacePrefixMatch: string({ maxLength: 1024, description: 'What replaces the matched path prefix.' }),
    },
    { required: ['type'], 'x-kubernetes-validations': flavor.cel ? rules : undefined },
  );
}

export function requestRedirect(flavor: RouteFlavor): JsonSchemaProps {
  return object({
    scheme: stringEnum(['http', 'https'], {
      description: 'Scheme of the Location header; default: the request scheme.',
    }),
    hostname: string({
      minLength: 1,
      maxLength: 253,
      pattern: DNS1123_SUBDOMAIN,
      description: 'Host of the Location header.',
    }),
    path: pathModifier(flavor),
    port: port('Port of the Location header.'),
    statusCode: integer({ enum: [301, 302], default: 302, description: 'The redirect status code.' }),
  });
}

function urlRewrite(flavor: RouteFlavor): JsonSchemaProps {
  return object({
    hostname: string({
      minLength: 1,
      maxLength: 253,
      pattern: DNS1123_SUBDOMAIN,
      description: 'The new Host header.',
    }),
    path: pathModifier(flavor),
  });
}

function backendObjectRef(): JsonSchemaProps {
  return object(
    {
      group: groupField({ default: '' }),
      kind: kindField({ default: 'Service' }),
      name: nameField(),
      namespace: namespaceField(),
      port: port('Destination port; required for a Service.'),
    },
    {
      required: ['name'],
      'x-kubernetes-validations': [
        {
          rule: "(size(self.group) == 0 && self.kind == 'Service') ? has(self.port) : true",
          message: 'a Service backend needs a port',
        },
      ],
    },
  );
}

function requestMirror(): JsonSchemaProps {
  return object(
    {
      backendRef: backendObjectRef(),
      percent: int32({ minimum: 0, maximum: 100, description: 'Share of requests mirrored.' }),
      fraction: object(
        {
          numerator: int32({ minimum: 0 }),
          denominator: int32({ minimum: 1, default: 100 }),
        },
        {
          required: ['numerator'],
          'x-kubernetes-validations': [
            { rule: 'self.numerator <= self.denominator', message: 'numerator must not exceed denominator' },
          ],
        },
      ),
    },
    { required: ['backendRef'] },
  );
}

function extensionRef(): JsonSchemaProps {
  return object(
    {
      group: groupField({ description: 'API group of the extension.' }),
      kind: kindField(),
      name: nameField(),
    },
    { required: ['group', 'kind', 'name'] },
  );
}

/** Filter fields by filter type (the field named like the type, lower camel case). */
const FILTER_FIELDS: Record<string, string> = {
  RequestHeaderModifier: 'requestHeaderModifier',
  ResponseHeaderModifier: 'responseHeaderModifier',
  RequestRedirect: 'requestRedirect',
  URLRewrite: 'urlRewrite',
  RequestMirror: 'requestMirror',
  ExtensionRef: 'extensionRef',
};

/** A route filter with the given allowed types. */
export function filter(types: readonly string[], flavor: RouteFlavor): JsonSchemaProps {
  const fieldSchemas: Record<string, () => JsonSchemaProps> = {
    requestHeaderModifier: headerModifier,
    responseHeaderModifier: headerModifier,
    requestRedirect: () => requestRedirect(flavor),
    urlRewrite: () => urlRewrite(flavor),
    requestMirror,
    extensionRef,
  };
  const properties: Record<string, JsonSchemaProps> = {
    type: stringEnum(types, {
      description: 'Which filter this is; the field of the same name configures it.',
    }),
  };
  const rules: ValidationRule[] = [];
  for (const type of types) {
    const field = FILTER_FIELDS[type];
    const build = field === undefined ? undefined : fieldSchemas[field];
    if (field === undefined || build === undefined) continue;
    properties[field] = build();
    rules.push({
      rule: `has(self.${field}) == (self.type == '${type}')`,
      message: `${field} must be set exactly when type is ${type}`,
    });
  }
  return object(properties, {
    required: ['type'],
    'x-kubernetes-validations': flavor.cel ? rules : undefined,
  });
}

function filters(types: readonly string[], flavor: RouteFlavor, description: string): JsonSchemaProps {
  const rules: ValidationRule[] = [];
  if (flavor.cel) {
    for (const type of types.filter((t) => t !== 'RequestMirror' && t !== 'ExtensionRef')) {
      rules.push({
        rule: `self.filter(f, f.type == '${type}').size() <= 1`,
        message: `${type} may appear only once`,
      });
    }
    if (types.includes('RequestRedirect') && types.includes('URLRewrite')) {
      rules.push({
        rule: "!(self.exists(f, f.type == 'RequestRedirect') && self.exists(f, f.type == 'URLRewrite'))",
        message: 'RequestRedirect and URLRewrite cannot be combined',
      });
    }
  }
  return array(filter(types, flavor), {
    maxItems: 16,
    description,
    'x-kubernetes-validations': rules.length ? rules : undefined,
  });
}

export function backendRefs(filterTypes: readonly string[], flavor: RouteFlavor): JsonSchemaProps {
  const ref = object(
    {
      group: groupField({ default: '' }),
      kind: kindField({ default: 'Service' }),
      name: nameField(),
      namespace: namespaceField(),
      port: port('Destination port; required for a Service.'),
      weight: int32({
        minimum: 0,
        maximum: 1_000_000,
        default: 1,
        description: 'Share of traffic, relative to the other backends.',
      }),
      filters: filters(filterTypes, flavor, 'Filters applied only to requests sent to this backend.'),
    },
    {
      required: ['name'],
      'x-kubernetes-validations': flavor.cel
        ? [
            {
              rule: "(size(self.group) == 0 && self.kind == 'Service') ? has(self.port) : true",
              message: 'a Service backend needs a port',
            },
          ]
        : undefined,
    },
  );
  return array(ref, { maxItems: 16, description: 'Where matching requests go.' });
}

function valueMatch(nameMaxLength: number): JsonSchemaProps {
  return object(
    {
      type: stringEnum(VALUE_MATCH_TYPES, { default: 'Exact', description: 'How the value is compared.' }),
      name: string({
        minLength: 1,
        maxLength: nameMaxLength,
        pattern: HTTP_HEADER_NAME,
        description: 'Name to match.',
      }),
      value: string({ minLength: 1, maxLength: 4096, description: 'Value to match.' }),
    },
    { required: ['name', 'value'] },
  );
}

function valueMatches(description: string): JsonSchemaProps {
  return array(valueMatch(256), {
    maxItems: 16,
    'x-kubernetes-list-type': 'map',
    'x-kubernetes-list-map-keys': ['name'],
    description,
  });
}

const ROOT_PREFIX = { type: 'PathPrefix', value: '/' };

export function httpRouteMatch(flavor: RouteFlavor): JsonSchemaProps {
  const pathRules: ValidationRule[] = [
    {
      rule: "(self.type in ['Exact', 'PathPrefix']) ? self.value.startsWith('/') : true",
      message: 'an Exact or PathPrefix path must start with /',
    },
    {
      rule: "(self.type in ['Exact', 'PathPrefix']) ? !self.value.contains('//') : true",
      message: 'an Exact or PathPrefix path must not contain //',
    },
  ];
  return object({
    path: object(
      {
        type: stringEnum(HTTP_PATH_MATCH_TYPES, {
          default: 'PathPrefix',
          description: 'How the path is compared.',
        }),
        value: string({
          maxLength: 1024,
          default: '/',
          description: 'The path, prefix or regular expression.',
        }),
      },
      { default: ROOT_PREFIX, 'x-kubernetes-validations': flavor.cel ? pathRules : undefined },
    ),
    headers: valueMatches('Request headers that must all match.'),
    queryParams: valueMatches('Query parameters that must all match.'),
    method: stringEnum(HTTP_METHODS, { description: 'The request method.' }),
  });
}

export interface HttpRouteSpecOptions {
  flavor: RouteFlavor;
  matchesMaxItems: number;
  filterTypes: readonly string[];
  backendFilterTypes: readonly string[];
  /** `duration`: Go durations (format: duration); `gateway`: the Gateway API duration pattern. */
  timeouts?: 'duration' | 'gateway';
}

export function httpRouteSpec(options: HttpRouteSpecOptions): JsonSchemaProps {
  const { flavor } = options;
  const rule: Record<string, JsonSchemaProps> = {
    matches: array(httpRouteMatch(flavor), {
      maxItems: options.matchesMaxItems,
      default: [{ path: ROOT_PREFIX }],
      description: 'Conditions; a request matches the rule if any one of them matches.',
    }),
    filters: filters(options.filterTypes, flavor, 'Filters applied to matching requests.'),
    backendRefs: backendRefs(options.backendFilterTypes, flavor),
  };
  if (options.timeouts) {
    const duration =
      options.timeouts === 'gateway'
        ? (description: string) => string({ pattern: GATEWAY_DURATION, description })
        : (description: string) => string({ format: 'duration', description });
    rule.timeouts = object(
      {
        request: duration('Time allowed for the whole request, including retries; 0s disables.'),
        backendRequest: duration('Time allowed for one request to a backend.'),
      },
      {
        'x-kubernetes-validations':
          options.timeouts === 'gateway'
            ? [
                {
                  rule: "!(has(self.request) && has(self.backendRequest) && duration(self.request) != duration('0s') && duration(self.backendRequest) > duration(self.request))",
                  message: 'backendRequest must not be longer than request',
                },
              ]
            : undefined,
      },
    );
  }
  return object({
    parentRefs: parentRefs(flavor),
    hostnames: hostnames(),
    rules: array(object(rule), {
      maxItems: 16,
      default: [{ matches: [{ path: ROOT_PREFIX }] }],
      description: 'Matchers, filters and backends.',
    }),
  });
}

export function grpcRouteSpec(flavor: RouteFlavor): JsonSchemaProps {
  const filterTypes = ['ResponseHeaderModifier', 'RequestHeaderModifier', 'RequestMirror', 'ExtensionRef'];
  const match = object({
    method: object(
      {
        type: stringEnum(VALUE_MATCH_TYPES, {
          default: 'Exact',
          description: 'How service and method are compared.',
        }),
        service: string({ maxLength: 1024, description: 'Fully qualified gRPC service name.' }),
        method: string({ maxLength: 1024, description: 'gRPC method name.' }),
      },
      {
        'x-kubernetes-validations': flavor.cel
          ? [
              {
                rule: 'has(self.service) || has(self.method)',
                message: 'one or both of service and method must be set',
              },
            ]
          : undefined,
      },
    ),
    headers: valueMatches('Request metadata that must all match.'),
  });
  return object({
    parentRefs: parentRefs(flavor),
    hostnames: hostnames(),
    rules: array(
      object({
        matches: array(match, { maxItems: 8, description: 'Conditions; any one matching selects the rule.' }),
        filters: filters(filterTypes, flavor, 'Filters applied to matching requests.'),
        backendRefs: backendRefs(filterTypes, flavor),
      }),
      { maxItems: 16, description: 'Matchers, filters and backends.' },
    ),
  });
}

/** `status` of a route: one entry per parent the route is attached to. */
export function routeStatus(flavor: RouteFlavor): JsonSchemaProps {
  return object(
    {
      parents: array(
        object(
          {
            parentRef: parentRef(flavor),
            controllerName: string({
              minLength: 1,
              maxLength: 253,
              pattern: CONTROLLER_NAME,
              description: 'The controller that wrote this entry (domain/path).',
            }),
            conditions: array(condition({ strict: true }), {
              minItems: 1,
              maxItems: 8,
              'x-kubernetes-list-type': 'map',
              'x-kubernetes-list-map-keys': ['type'],
            }),
          },
          { required: ['controllerName', 'parentRef'] },
        ),
        { maxItems: 32, description: 'Status per parent.' },
      ),
    },
    { required: ['parents'] },
  );
}
