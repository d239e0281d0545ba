// Schema fragments shared by several CRDs: name patterns, label selectors, object references,
// status conditions, networks. The regular expressions are the Kubernetes and Gateway API ones,
// so that what one of their validators accepts, these accept.
import {
  array,
  boolean,
  int64,
  object,
  string,
  stringEnum,
  stringMap,
  type JsonSchemaProps,
  type SchemaOptions,
} from './json-schema.js';

/** RFC 1123 label: a namespace or ServiceAccount name. */
export const DNS1123_LABEL = '^[a-z0-9]([-a-z0-9]*[a-z0-9])?$';
/** RFC 1123 subdomain: dot-separated labels. */
export const DNS1123_SUBDOMAIN = '^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$';
/** An API group; empty means the core group. */
export const API_GROUP = `^$|${DNS1123_SUBDOMAIN}`;
/** A kind: starts with a letter, letters, digits and dashes. */
export const KIND = '^[a-zA-Z]([-a-zA-Z0-9]*[a-zA-Z0-9])?$';
/** A hostname, optionally with a leading `*.` wildcard label. */
export const WILDCARD_HOSTNAME =
  '^(\\*\\.)?[a-z0-9]([-a-z0-9]*[a-z0-9])?(\\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$';
/** A proxy identity, optionally with a leading `*` label: `*.ns.serviceaccount.identity.linkerd.cluster.local`. */
export const MESH_IDENTITY = '^(\\*|[a-z0-9]([-a-z0-9]*[a-z0-9])?)(\\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$';
/** An HTTP header name: an RFC 7230 token. */
export const HTTP_HEADER_NAME = "^[A-Za-z0-9!#$%&'*+\\-.^_\\x60|~]+$";
/** A Kubernetes resource quantity such as `100`, `1.5`, `500m`, `2Ki`. */
export const QUANTITY =
  '^(\\+|-)?(([0-9]+(\\.[0-9]*)?)|(\\.[0-9]+))(([KMGTPE]i)|[numkMGTPE]|([eE](\\+|-)?(([0-9]+(\\.[0-9]*)?)|(\\.[0-9]+))))?$';
/** A Gateway API duration: up to four `<number><unit>` pairs, units h, m, s, ms. */
export const GATEWAY_DURATION = '^([0-9]{1,5}(h|m|s|ms)){1,4}$';
/** A condition type: an optional DNS-subdomain prefix and a qualified name. */
export const CONDITION_TYPE =
  '^([a-z0-9]([-a-z0-9]*[a-z0-9])?(\\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*/)?(([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9])$';
/** A condition reason: CamelCase identifier. */
export const CONDITION_REASON = '^[A-Za-z]([A-Za-z0-9_,:]*[A-Za-z0-9_])?$';
/** A controller name: `domain/path`. */
export const CONTROLLER_NAME =
  "^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*\\/[A-Za-z0-9\\/\\-._~%!$&'()*+,;=:]+$";

export const LABEL_SELECTOR_OPERATORS = ['In', 'NotIn', 'Exists', 'DoesNotExist'] as const;

/** A metav1.LabelSelector: matchLabels and matchExpressions, ANDed; empty selects everything. */
export function labelSelector(options?: SchemaOptions): JsonSchemaProps {
  return object(
    {
      matchLabels: stringMap({ description: 'Labels that must all be present with these values.' }),
      matchExpressions: array(
        object(
          {
            key: string({ description: 'The label key.' }),
            operator: stringEnum(LABEL_SELECTOR_OPERATORS, {
              description: 'How the key relates to the values.',
            }),
            values: array(string(), {
              description: 'Values for In and NotIn; empty for Exists and DoesNotExist.',
            }),
          },
          { required: ['key', 'operator'] },
        ),
        { description: 'Set-based requirements on labels.' },
      ),
    },
    options,
  );
}

export function groupField(options?: SchemaOptions): JsonSchemaProps {
  return string({
    maxLength: 253,
    pattern: API_GROUP,
    description: 'API group of the referent; empty for the core group.',
    ...options,
  });
}

export function kindField(options?: SchemaOptions): JsonSchemaProps {
  return string({
    minLength: 1,
    maxLength: 63,
    pattern: KIND,
    description: 'Kind of the referent.',
    ...options,
  });
}

export function nameField(options?: SchemaOptions): JsonSchemaProps {
  return string({ minLength: 1, maxLength: 253, description: 'Name of the referent.', ...options });
}

export function namespaceField(options?: SchemaOptions): JsonSchemaProps {
  return string({
    minLength: 1,
    maxLength: 63,
    pattern: DNS1123_LABEL,
    description: 'Namespace of the referent; unset means the namespace of this object.',
    ...options,
  });
}

/** A reference to an object in the same namespace: group, kind, name. */
export function localTargetRef(options?: SchemaOptions): JsonSchemaProps {
  return object(
    { group: groupField(), kind: kindField(), name: nameField() },
    { required: ['kind', 'name'], ...options },
  );
}

/** A CIDR with exceptions, as used by NetworkAuthentication, ServerAuthorization and EgressNetwork. */
export function network(): JsonSchemaProps {
  return object(
    {
      cidr: string({ description: 'An IP network in CIDR notation (a bare address means a single host).' }),
      except: array(string(), { description: 'Networks or addresses inside `cidr` that are not included.' }),
    },
    { required: ['cidr'] },
  );
}

/** One metav1.Condition-like status entry. `strict` requires all five fields, as metav1.Condition does. */
export function condition(
  options: { strict?: boolean; extra?: Record<string, JsonSchemaProps> } = {},
): JsonSchemaProps {
  return object(
    {
      type: string({ maxLength: 316, pattern: CONDITION_TYPE, description: 'Condition type, CamelCase.' }),
      status: stringEnum(['True', 'False', 'Unknown'], { description: 'Whether the condition holds.' }),
      reason: string({
        minLength: 1,
        maxLength: 1024,
        pattern: CONDITION_REASON,
        description: 'Why, as a CamelCase word.',
      }),
      message: string({ maxLength: 32768, description: 'Why, for humans.' }),
      lastTransitionTime: string({ format: 'date-time', description: 'When the status last changed.' }),
      observedGeneration: int64({
        minimum: 0,
        description: 'The generation the condition was computed from.',
      }),
      ...options.extra,
    },
    {
      required: options.strict
        ? ['type', 'status', 'reason', 'message', 'lastTransitionTime']
        : ['type', 'status'],
    },
  );
}

/** `status.conditions`: a list keyed by type. */
export function conditions(
  options: { strict?: boolean; extra?: Record<string, JsonSchemaProps> } = {},
): JsonSchemaProps {
  return array(condition(options), {
    'x-kubernetes-list-type': 'map',
    'x-kubernetes-list-map-keys': ['type'],
  });
}

/** The unauthenticated-TLS / identity / ServiceAccount client description of ServerAuthorization. */
export function meshTlsClient(): JsonSchemaProps {
  return object({
    unauthenticatedTLS: boolean({
      description: 'Clients need not present an identity (the identity controller itself relies on this).',
    }),
    identities: array(string({ pattern: MESH_IDENTITY }), {
      description:
        'Client identities; a leading `*` label matches a whole domain and `*` alone any identity.',
    }),
    serviceAccounts: array(
      object(
        {
          name: string({ pattern: DNS1123_LABEL, description: 'ServiceAccount name.' }),
          namespace: string({
            pattern: DNS1123_LABEL,
            description: 'ServiceAccount namespace; defaults to this one.',
          }),
        },
        { required: ['name'] },
      ),
      { description: 'Client ServiceAccounts.' },
    ),
  });
}
