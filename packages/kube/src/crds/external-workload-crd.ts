// workload.linkerd.io ExternalWorkload: a meshed workload outside the cluster (a VM, a host).
// v1beta1 renamed `meshTls` to `meshTLS` and allows two addresses (one IPv4, one IPv6).
import { conditions } from './common-schemas.js';
import { defineCrd, type CustomResourceDefinition } from './crd.js';
import { array, int32, object, string, type JsonSchemaProps } from './json-schema.js';

export const WORKLOAD_GROUP = 'workload.linkerd.io';

function spec(tlsField: 'meshTls' | 'meshTLS', maxIps: number): JsonSchemaProps {
  return object(
    {
      [tlsField]: object(
        {
          identity: string({
            minLength: 1,
            maxLength: 253,
            description: "The workload's identity (its certificate's name).",
          }),
          serverName: string({
            minLength: 1,
            maxLength: 253,
            description: 'The SNI name the workload terminates TLS for.',
          }),
        },
        { required: ['identity', 'serverName'], description: 'TLS settings of the workload.' },
      ),
      ports: array(
        object(
          {
            name: string({ description: 'An IANA service name, unique among the ports.' }),
            port: int32({ minimum: 1, maximum: 65535 }),
            protocol: string({ default: 'TCP', description: 'TCP or UDP.' }),
          },
          { required: ['port'] },
        ),
        { description: 'Ports the workload exposes.' },
      ),
      workloadIPs: array(object({ ip: string() }), {
        maxItems: maxIps,
        description: 'Addresses that reach the workload.',
      }),
    },
    { required: [tlsField] },
  );
}

function status(): JsonSchemaProps {
  return object({
    conditions: conditions({
      extra: {
        lastProbeTime: string({ format: 'date-time', description: 'When the workload was last probed.' }),
      },
    }),
  });
}

export function externalWorkloadCrd(): CustomResourceDefinition {
  const description = 'A workload outside the cluster that is part of the mesh.';
  return defineCrd({
    group: WORKLOAD_GROUP,
    kind: 'ExternalWorkload',
    plural: 'externalworkloads',
    categories: ['external'],
    versions: [
      {
        name: 'v1alpha1',
        description,
        spec: spec('meshTls', 1),
        status: status(),
        statusSubresource: true,
        printerColumns: [
          { name: 'Identity', type: 'string', jsonPath: '.spec.meshTls.identity' },
          { name: 'Age', type: 'date', jsonPath: '.metadata.creationTimestamp' },
        ],
      },
      {
        name: 'v1beta1',
        storage: true,
        description,
        spec: spec('meshTLS', 2),
        status: status(),
        statusSubresource: true,
        printerColumns: [
          { name: 'Identity', type: 'string', jsonPath: '.spec.meshTLS.identity' },
          { name: 'Age', type: 'date', jsonPath: '.metadata.creationTimestamp' },
        ],
      },
    ],
  });
}
