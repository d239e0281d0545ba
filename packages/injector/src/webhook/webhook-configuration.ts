// The MutatingWebhookConfiguration that sends pod and Service creations to the injector, as Linkerd's chart
// writes it: failurePolicy Ignore (a broken injector never blocks pods, they start unmeshed),
// namespaces kube-system, cert-manager, the control plane's own and those labelled
// config.linkerd.io/admission-webhooks=disabled left out, control-plane and CNI objects left out.
import { ConfigAnnotation, Label } from '@tsmesh/core';

export interface InjectorWebhookConfigurationOptions {
  /** PEM of the CA that signed the webhook's serving certificate. */
  caBundlePem: string;
  /** Default linkerd. */
  controlPlaneNamespace?: string;
  /** Either the in-cluster Service (default linkerd-proxy-injector:443 path /) … */
  service?: { name: string; namespace: string; port?: number; path?: string };
  /** … or a URL (tests: https://127.0.0.1:PORT/). */
  url?: string;
  /** Default linkerd-proxy-injector-webhook-config. */
  name?: string;
  /** Default Ignore. */
  failurePolicy?: 'Ignore' | 'Fail';
  timeoutSeconds?: number;
}

export const INJECTOR_WEBHOOK_CONFIGURATION_NAME = 'linkerd-proxy-injector-webhook-config';

export function injectorWebhookConfiguration(options: InjectorWebhookConfigurationOptions) {
  const ns = options.controlPlaneNamespace ?? 'linkerd';
  const clientConfig: Record<string, unknown> = {
    caBundle: Buffer.from(options.caBundlePem).toString('base64'),
  };
  if (options.url) clientConfig.url = options.url;
  else {
    const s = options.service ?? { name: 'linkerd-proxy-injector', namespace: ns };
    clientConfig.service = { name: s.name, namespace: s.namespace, path: s.path ?? '/', port: s.port ?? 443 };
  }
  return {
    apiVersion: 'admissionregistration.k8s.io/v1',
    kind: 'MutatingWebhookConfiguration',
    metadata: { name: options.name ?? INJECTOR_WEBHOOK_CONFIGURATION_NAME },
    webhooks: [
      {
        name: 'linkerd-proxy-injector.linkerd.io',
        namespaceSelector: {
          matchExpressions: [
            { key: ConfigAnnotation.AdmissionWebhooks, operator: 'NotIn', values: ['disabled'] },
            {
              key: 'kubernetes.io/metadata.name',
              operator: 'NotIn',
              values: ['kube-system', 'cert-manager', ns],
            },
          ],
        },
        objectSelector: {
          matchExpressions: [
            { key: Label.ControlPlaneComponent, operator: 'DoesNotExist' },
            { key: Label.CniResource, operator: 'DoesNotExist' },
          ],
        },
        clientConfig,
        failurePolicy: options.failurePolicy ?? 'Ignore',
        admissionReviewVersions: ['v1'],
        sideEffects: 'None',
        timeoutSeconds: options.timeoutSeconds ?? 10,
        rules: [
          {
            operations: ['CREATE'],
            apiGroups: [''],
            apiVersions: ['v1'],
            resources: ['pods', 'services'],
            scope: 'Namespaced',
          },
        ],
      },
    ],
  };
}
