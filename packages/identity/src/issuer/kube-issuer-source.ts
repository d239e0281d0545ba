// Issuer and trust anchors from Kubernetes, where Linkerd keeps them: the Secret
// `linkerd-identity-issuer` (linkerd.io/tls or kubernetes.io/tls layout) and the ConfigMap
// `linkerd-identity-trust-roots` (key ca-bundle.crt), both in the control-plane namespace. Both are
// watched; each change yields new material for the issuer store to validate and switch to.
import type { KubeConfig, V1ConfigMap, V1Secret } from '@kubernetes/client-node';
import { CoreKinds, createKubeApiClient, type KubeObject, type Logger } from '@tsmesh/kube';
import {
  ISSUER_SECRET_NAME,
  readIssuerSecretData,
  TRUST_ROOTS_CONFIGMAP_NAME,
  TRUST_ROOTS_KEY,
  type IssuerMaterial,
} from './issuer-material.js';
import { watchKubeObject } from './kube-object-watch.js';

export interface KubeIssuerSourceOptions {
  readonly kubeConfig: KubeConfig;
  readonly namespace: string;
  readonly secretName?: string;
  readonly trustRootsConfigMapName?: string;
  readonly signal: AbortSignal;
  readonly onMaterial: (material: IssuerMaterial) => void;
  /** Problems with what was read (missing keys). */
  readonly onError: (err: unknown) => void;
  /** API connection problems are logged here and retried with backoff. */
  readonly logger?: Logger;
  readonly retryDelayMs?: number;
}

/** Starts both watches; resolves once each has been listed once. */
export async function watchKubeIssuer(options: KubeIssuerSourceOptions): Promise<void> {
  const { kubeConfig, namespace, signal } = options;
  const client = createKubeApiClient(kubeConfig, { userAgent: 'tsmesh-identity' });
  const secretName = options.secretName ?? ISSUER_SECRET_NAME;
  const configMapName = options.trustRootsConfigMapName ?? TRUST_ROOTS_CONFIGMAP_NAME;
  let secret: V1Secret | undefined;
  let configMap: V1ConfigMap | undefined;
  let ready = false;

  const combine = () => {
    if (!ready) return;
    if (!secret) {
      options.onError(new Error(`Secret ${namespace}/${secretName} does not exist`));
      return;
    }
    const data: Record<string, string> = {};
    for (const [k, v] of Object.entries(secret.data ?? {}))
      data[k] = Buffer.from(v, 'base64').toString('utf8');
    for (const [k, v] of Object.entries(secret.stringData ?? {})) data[k] = v;
    const picked = readIssuerSecretData(data);
    if ('missing' in picked) {
      options.onError(new Error(`Secret ${namespace}/${secretName}: ${picked.missing}`));
      return;
    }
    const trustAnchorsPem = configMap?.data?.[TRUST_ROOTS_KEY] ?? picked.caPem;
    if (!trustAnchorsPem) {
      options.onError(
        new Error(
          `no trust anchors: ConfigMap ${namespace}/${configMapName} has no ${TRUST_ROOTS_KEY} and the Secret has no ca.crt`,
        ),
      );
      return;
    }
    options.onMaterial({
      certificatePem: picked.certificatePem,
      privateKeyPem: picked.privateKeyPem,
      trustAnchorsPem,
      origin: `secret/${namespace}/${secretName}@${secret.metadata?.resourceVersion ?? '?'}`,
    });
  };

  const common = { client, namespace, signal, logger: options.logger, retryDelayMs: options.retryDelayMs };
  await Promise.all([
    watchKubeObject<V1Secret & KubeObject>({
      ...common,
      kind: CoreKinds.Secret,
      name: secretName,
      onObject: (obj) => {
        secret = obj;
        combine();
      },
    }),
    watchKubeObject<V1ConfigMap & KubeObject>({
      ...common,
      kind: CoreKinds.ConfigMap,
      name: configMapName,
      onObject: (obj) => {
        configMap = obj;
        combine();
      },
    }),
  ]);
  ready = true;
  combine();
}
