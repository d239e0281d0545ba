// multicluster.linkerd.io Link: how this cluster reaches a target cluster (credentials, gateway,
// probe) and which of its Services to mirror. v1alpha2 added federated services and the status;
// v1alpha3 added excluded labels and annotations.
import {
  CONTROLLER_NAME,
  condition,
  groupField,
  kindField,
  labelSelector,
  nameField,
  namespaceField,
} from './common-schemas.js';
import { defineCrd, type CustomResourceDefinition } from './crd.js';
import { array, object, string, type JsonSchemaProps } from './json-schema.js';

export const MULTICLUSTER_GROUP = 'multicluster.linkerd.io';

function probeSpec(periodIsDuration: boolean): JsonSchemaProps {
  return object(
    {
      path: string({ description: 'Path of the gateway health endpoint.' }),
      port: string({ description: 'Port of the gateway health endpoint.' }),
      period: string({
        format: periodIsDuration ? 'duration' : undefined,
        description: 'Time between probes.',
      }),
      timeout: string({ format: 'duration', default: '30s', description: 'Time allowed for one probe.' }),
      failureThreshold: string({
        default: '3',
        description: 'Consecutive failures before the gateway is unhealthy.',
      }),
    },
    { description: 'Health probe of the target cluster gateway.' },
  );
}

function spec(version: 1 | 2 | 3): JsonSchemaProps {
  const properties: Record<string, JsonSchemaProps> = {
    targetClusterName: string({ description: 'Name of the target cluster.' }),
    targetClusterDomain: string({ description: 'Cluster domain of the target cluster.' }),
    targetClusterLinkerdNamespace: string({ description: 'Control-plane namespace in the target cluster.' }),
    clusterCredentialsSecret: string({
      description: 'Secret holding the kubeconfig for the target cluster.',
    }),
    gatewayAddress: string({ description: 'Address of the target cluster gateway.' }),
    gatewayPort: string({ description: 'Port of the target cluster gateway.' }),
    gatewayIdentity: string({ description: 'Identity of the target cluster gateway.' }),
    probeSpec: probeSpec(version >= 2),
    selector: labelSelector({ description: 'Services to mirror through the gateway.' }),
    remoteDiscoverySelector: labelSelector({
      description: 'Services to mirror in remote-discovery (pod-to-pod) mode.',
    }),
  };
  if (version >= 2) {
    properties.federatedServiceSelector = labelSelector({
      description: 'Services that join federated services.',
    });
  }
  if (version >= 3) {
    properties.excludedAnnotations = array(string(), { description: 'Annotations not copied onto mirrors.' });
    properties.excludedLabels = array(string(), { description: 'Labels not copied onto mirrors.' });
  }
  return object(properties);
}

function serviceRef(description: string): JsonSchemaProps {
  return object(
    {
      group: groupField({ default: 'core' }),
      kind: kindField({ default: 'Service' }),
      name: nameField(),
      namespace: namespaceField({ description: 'Namespace of the Service.' }),
    },
    { required: ['name', 'namespace'], description },
  );
}

function serviceStatus(): JsonSchemaProps {
  return object(
    {
      controllerName: string({
        minLength: 1,
        maxLength: 253,
        pattern: CONTROLLER_NAME,
        description: 'Who wrote this entry.',
      }),
      remoteRef: serviceRef('The Service in the target cluster.'),
      conditions: array(
        condition({
          strict: true,
          extra: {
            lastProbeTime: string({ format: 'date-time' }),
            localRef: serviceRef('The Service in this cluster.'),
          },
        }),
      ),
    },
    { required: ['controllerName', 'remoteRef'] },
  );
}

function status(): JsonSchemaProps {
  return object(
    {
      mirrorServices: array(serviceStatus(), { description: 'Services mirrored by this Link.' }),
      federatedServices: array(serviceStatus(), {
        description: 'Federated services this Link contributes to.',
      }),
    },
    { description: 'What this Link manages.' },
  );
}

export function linkCrd(): CustomResourceDefinition {
  return defineCrd({
    group: MULTICLUSTER_GROUP,
    kind: 'Link',
    plural: 'links',
    labels: { 'linkerd.io/extension': 'multicluster' },
    versions: [
      { name: 'v1alpha1', spec: spec(1), specRequired: false },
      { name: 'v1alpha2', spec: spec(2), specRequired: false, status: status(), statusSubresource: true },
      {
        name: 'v1alpha3',
        storage: true,
        spec: spec(3),
        specRequired: false,
        status: status(),
        statusSubresource: true,
      },
    ],
  });
}
