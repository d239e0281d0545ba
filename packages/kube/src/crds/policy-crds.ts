// policy.linkerd.io CRDs other than HTTPRoute: Server, ServerAuthorization, AuthorizationPolicy,
// MeshTLSAuthentication, NetworkAuthentication, HTTPLocalRateLimitPolicy, EgressNetwork.
// Versions, served/storage flags, required fields, oneOf and patterns follow Linkerd's chart
// (linkerd-crds); where Linkerd's controller only accepts a closed set of strings (proxyProtocol,
// accessPolicy) we also say so in the schema, so a typo fails at `kubectl apply`.
import { DefaultInboundPolicy } from '@tsmesh/core';
import {
  API_GROUP,
  DNS1123_LABEL,
  KIND,
  MESH_IDENTITY,
  conditions,
  groupField,
  kindField,
  labelSelector,
  localTargetRef,
  meshTlsClient,
  nameField,
  namespaceField,
  network,
} from './common-schemas.js';
import { defineCrd, type CustomResourceDefinition, type PrinterColumn } from './crd.js';
import {
  array,
  boolean,
  int64,
  intOrString,
  object,
  string,
  stringEnum,
  type JsonSchemaProps,
} from './json-schema.js';

export const POLICY_GROUP = 'policy.linkerd.io';

/** Values of Server.spec.proxyProtocol. */
export const PROXY_PROTOCOLS = ['unknown', 'HTTP/1', 'HTTP/2', 'gRPC', 'opaque', 'TLS'] as const;

const serverColumns: PrinterColumn[] = [
  { name: 'Port', type: 'string', jsonPath: '.spec.port', description: 'The port the server listens on' },
  {
    name: 'Protocol',
    type: 'string',
    jsonPath: '.spec.proxyProtocol',
    description: 'How inbound connections are detected',
  },
];

function serverPort(): JsonSchemaProps {
  return intOrString({ description: 'A container port, by number or by name.' });
}

function proxyProtocol(closed: boolean): JsonSchemaProps {
  return string({
    default: 'unknown',
    description:
      'How the proxy treats inbound connections on this port (overrides config.linkerd.io/opaque-ports).',
    enum: closed ? [...PROXY_PROTOCOLS] : undefined,
  });
}

export function serverCrd(): CustomResourceDefinition {
  const podSelector = (description: string) => labelSelector({ description });
  const v1alpha1Spec = object(
    {
      podSelector: {
        ...podSelector('Pods in this namespace that this server applies to.'),
        // v1alpha1 insisted on a non-empty selector.
        oneOf: [{ required: ['matchExpressions'] }, { required: ['matchLabels'] }],
      },
      port: serverPort(),
      proxyProtocol: proxyProtocol(false),
    },
    { required: ['podSelector', 'port'] },
  );
  const v1beta1Spec = object(
    {
      podSelector: podSelector(
        'Pods in this namespace; matchLabels and matchExpressions are ANDed; empty selects all.',
      ),
      port: serverPort(),
      proxyProtocol: proxyProtocol(false),
    },
    { required: ['podSelector', 'port'] },
  );
  const selectors = {
    podSelector: podSelector(
      'Pods in this namespace; matchLabels and matchExpressions are ANDed; empty selects all.',
    ),
    externalWorkloadSelector: labelSelector({
      description:
        'ExternalWorkloads in this namespace; matchLabels and matchExpressions are ANDed; empty selects all.',
    }),
  };
  const exactlyOneSelector = [{ required: ['podSelector'] }, { required: ['externalWorkloadSelector'] }];
  const v1beta2Spec = object(
    { ...selectors, port: serverPort(), proxyProtocol: proxyProtocol(false) },
    { required: ['port'], oneOf: exactlyOneSelector },
  );
  const v1beta3Spec = object(
    {
      ...selectors,
      port: serverPort(),
      proxyProtocol: proxyProtocol(true),
      accessPolicy: stringEnum(Object.values(DefaultInboundPolicy), {
        default: 'deny',
        description: 'What happens to traffic that no authorization matches.',
      }),
    },
    { required: ['port'], oneOf: exactlyOneSelector },
  );
  return defineCrd({
    group: POLICY_GROUP,
    kind: 'Server',
    plural: 'servers',
    shortNames: ['srv'],
    versions: [
      {
        name: 'v1alpha1',
        deprecated: true,
        deprecationWarning:
          'policy.linkerd.io/v1alpha1 Server is deprecated; use policy.linkerd.io/v1beta3 Server',
        spec: v1alpha1Spec,
      },
      {
        name: 'v1beta1',
        deprecated: true,
        deprecationWarning:
          'policy.linkerd.io/v1beta1 Server is deprecated; use policy.linkerd.io/v1beta3 Server',
        spec: v1beta1Spec,
        printerColumns: serverColumns,
      },
      { name: 'v1beta2', spec: v1beta2Spec, printerColumns: serverColumns },
      {
        name: 'v1beta3',
        storage: true,
        spec: v1beta3Spec,
        printerColumns: [
          ...serverColumns,
          {
            name: 'Access Policy',
            type: 'string',
            jsonPath: '.spec.accessPolicy',
            description: 'Policy for unmatched traffic',
          },
        ],
      },
    ],
  });
}

export function serverAuthorizationCrd(): CustomResourceDefinition {
  const spec = object(
    {
      server: object(
        {
          name: string({ pattern: DNS1123_LABEL, description: 'A Server in this namespace, by name.' }),
          selector: labelSelector({ description: 'Servers in this namespace, by label.' }),
        },
        {
          description: 'The servers this authorization applies to: either `name` or `selector`.',
          oneOf: [{ required: ['name'] }, { required: ['selector'] }],
        },
      ),
      client: object(
        {
          networks: array(network(), {
            description: 'Client networks this applies to; unset means the server default.',
          }),
          unauthenticated: boolean({ description: 'Allow clients without mesh identity.' }),
          meshTLS: meshTlsClient(),
        },
        { description: 'The clients this authorization admits.' },
      ),
    },
    { required: ['server', 'client'], description: 'Allows clients to reach Linkerd-proxied servers.' },
  );
  return defineCrd({
    group: POLICY_GROUP,
    kind: 'ServerAuthorization',
    plural: 'serverauthorizations',
    shortNames: ['saz', 'serverauthz', 'srvauthz'],
    versions: [
      {
        name: 'v1alpha1',
        deprecated: true,
        deprecationWarning:
          'policy.linkerd.io/v1alpha1 ServerAuthorization is deprecated; use policy.linkerd.io/v1beta1 ServerAuthorization',
        spec,
      },
      {
        name: 'v1beta1',
        storage: true,
        spec,
        printerColumns: [
          {
            name: 'Server',
            type: 'string',
            jsonPath: '.spec.server.name',
            description: 'The server this grants access to',
          },
        ],
      },
    ],
  });
}

function authenticationRef(nameRequired: boolean): JsonSchemaProps {
  return object(
    {
      group: string({
        maxLength: 253,
        pattern: API_GROUP,
        description: 'API group of the referent; empty for core.',
      }),
      kind: string({ minLength: 1, maxLength: 63, pattern: KIND, description: 'Kind of the referent.' }),
      name: string({
        minLength: 1,
        maxLength: 253,
        description: 'Name of the referent; unset means every object of this kind in the namespace.',
      }),
      namespace: string({
        maxLength: 253,
        description: 'Namespace of the referent; unset means this namespace.',
      }),
    },
    { required: nameRequired ? ['kind', 'name'] : ['kind'] },
  );
}

export function authorizationPolicyCrd(): CustomResourceDefinition {
  return defineCrd({
    group: POLICY_GROUP,
    kind: 'AuthorizationPolicy',
    plural: 'authorizationpolicies',
    shortNames: ['authzpolicy'],
    versions: [
      {
        name: 'v1alpha1',
        storage: true,
        spec: object(
          {
            targetRef: localTargetRef({
              description:
                'What this policy protects: a Server, an HTTPRoute, a GRPCRoute or this Namespace.',
            }),
            requiredAuthenticationRefs: array(authenticationRef(true), {
              description:
                'Authentications a client must all satisfy (MeshTLSAuthentication, NetworkAuthentication, ServiceAccount).',
            }),
          },
          {
            required: ['targetRef', 'requiredAuthenticationRefs'],
            description: 'Allows clients to reach a target.',
          },
        ),
      },
    ],
  });
}

export function meshTlsAuthenticationCrd(): CustomResourceDefinition {
  return defineCrd({
    group: POLICY_GROUP,
    kind: 'MeshTLSAuthentication',
    plural: 'meshtlsauthentications',
    shortNames: ['meshtlsauthn'],
    versions: [
      {
        name: 'v1alpha1',
        storage: true,
        spec: object(
          {
            identities: array(string({ pattern: MESH_IDENTITY }), {
              description:
                'Client identities; a leading `*` label matches a whole domain and `*` alone any identity.',
            }),
            identityRefs: array(authenticationRef(false), {
              description: 'Clients by ServiceAccount or Namespace.',
            }),
          },
          {
            description:
              'Clients authenticated by their mesh TLS identity; set either identities or identityRefs.',
            oneOf: [{ required: ['identities'] }, { required: ['identityRefs'] }],
          },
        ),
      },
    ],
  });
}

export function networkAuthenticationCrd(): CustomResourceDefinition {
  return defineCrd({
    group: POLICY_GROUP,
    kind: 'NetworkAuthentication',
    plural: 'networkauthentications',
    shortNames: ['netauthn', 'networkauthn'],
    versions: [
      {
        name: 'v1alpha1',
        storage: true,
        spec: object(
          { networks: array(network(), { description: 'Client networks.' }) },
          { required: ['networks'], description: 'Clients authenticated by their source address.' },
        ),
      },
    ],
  });
}

function rateLimit(description: string): JsonSchemaProps {
  return object(
    { requestsPerSecond: int64({ minimum: 0, description: 'Requests per second allowed.' }) },
    { required: ['requestsPerSecond'], description },
  );
}

export function httpLocalRateLimitPolicyCrd(): CustomResourceDefinition {
  return defineCrd({
    group: POLICY_GROUP,
    kind: 'HTTPLocalRateLimitPolicy',
    plural: 'httplocalratelimitpolicies',
    versions: [
      {
        name: 'v1alpha1',
        storage: true,
        statusSubresource: true,
        spec: object(
          {
            targetRef: localTargetRef({
              description: 'The Server this limit applies to (one policy per Server).',
            }),
            total: rateLimit('A limit for all traffic to the target; unset means no overall limit.'),
            identity: rateLimit('A limit per client identity; should not exceed the total.'),
            overrides: array(
              object(
                {
                  requestsPerSecond: int64({
                    minimum: 0,
                    description: 'Requests per second for these clients.',
                  }),
                  clientRefs: array(
                    object(
                      {
                        group: groupField(),
                        kind: kindField({ description: 'Kind of the client (ServiceAccount).' }),
                        namespace: namespaceField(),
                        name: nameField(),
                      },
                      { required: ['kind', 'name'] },
                    ),
                    { description: 'The clients this override is for.' },
                  ),
                },
                { required: ['requestsPerSecond', 'clientRefs'] },
              ),
              { description: 'Limits for particular clients.' },
            ),
          },
          { required: ['targetRef'] },
        ),
        status: object(
          {
            conditions: conditions(),
            targetRef: object(
              {
                group: groupField({ default: POLICY_GROUP }),
                kind: kindField({ default: 'Server' }),
                name: nameField(),
              },
              { required: ['name'] },
            ),
          },
          { required: ['targetRef'] },
        ),
        printerColumns: [
          {
            name: 'Target_kind',
            type: 'string',
            jsonPath: '.spec.targetRef.kind',
            description: 'Kind of the target',
          },
          {
            name: 'Target_name',
            type: 'string',
            jsonPath: '.spec.targetRef.name',
            description: 'Name of the target',
          },
          {
            name: 'Total_RPS',
            type: 'integer',
            format: 'int32',
            jsonPath: '.spec.total.requestsPerSecond',
            description: 'Overall limit',
          },
          {
            name: 'Identity_RPS',
            type: 'integer',
            format: 'int32',
            jsonPath: '.spec.identity.requestsPerSecond',
            description: 'Limit per identity',
          },
        ],
      },
    ],
  });
}

export function egressNetworkCrd(): CustomResourceDefinition {
  return defineCrd({
    group: POLICY_GROUP,
    kind: 'EgressNetwork',
    plural: 'egressnetworks',
    categories: ['policy'],
    versions: [
      {
        name: 'v1alpha1',
        storage: true,
        statusSubresource: true,
        description: 'Captures traffic leaving the cluster for the given networks.',
        spec: object(
          {
            trafficPolicy: stringEnum(['Allow', 'Deny'], {
              description:
                'What happens to traffic no attached route matches: Allow lets it through, Deny blocks it.',
            }),
            networks: array(network(), {
              description: 'Destination networks; unset means everything outside the cluster networks.',
            }),
          },
          { required: ['trafficPolicy'] },
        ),
        status: object({ conditions: conditions() }),
      },
    ],
  });
}
