// What `tsmesh upgrade` keeps from the installed control plane: the values in linkerd-config, the
// trust anchors, the issuer and the webhook certificates — read from the cluster or from the
// manifests of a previous install (--from-manifests). linkerdVersion is dropped so an upgrade moves
// to the CLI's version unless --set says otherwise.
import { MeshError, MeshErrorCode } from '@tsmesh/core';
import { CoreKinds, isNotFound, type KubeApiClient, type KubeObject } from '@tsmesh/kube';
import { parse as parseYaml, parseAllDocuments } from 'yaml';
import type { Values } from './values.js';

type Data = Record<string, string>;
interface Found {
  config?: Data;
  trustRoots?: Data;
  secrets: Map<string, Data>;
}

const WEBHOOK_SECRETS = {
  proxyInjector: 'linkerd-proxy-injector-k8s-tls',
  profileValidator: 'linkerd-sp-validator-k8s-tls',
  policyValidator: 'linkerd-policy-validator-k8s-tls',
} as const;

const decode = (data: Data | undefined, key: string) =>
  data?.[key] ? Buffer.from(data[key], 'base64').toString('utf8') : '';

function toValues(found: Found, where: string): Values {
  if (!found.config?.values) {
    throw new MeshError(MeshErrorCode.NotFound, 'no linkerd-config ConfigMap with a values key', {
      where,
      hint: 'is the control plane installed (tsmesh check)? Or give the previous manifests with --from-manifests',
    });
  }
  const values = (parseYaml(found.config.values) as Values | null) ?? {};
  delete values.linkerdVersion;
  const issuer = found.secrets.get('linkerd-identity-issuer');
  if (!issuer) {
    throw new MeshError(MeshErrorCode.NotFound, 'no linkerd-identity-issuer Secret', {
      where,
      hint: 'give the issuer with --identity-issuer-certificate-file and --identity-issuer-key-file',
    });
  }
  const anchors = found.trustRoots?.['ca-bundle.crt'];
  if (anchors) values.identityTrustAnchorsPEM = anchors;
  const identity = (values.identity ?? {}) as Values;
  const issuerValues = (identity.issuer ?? {}) as Values;
  issuerValues.tls = {
    crtPEM: decode(issuer, 'crt.pem') || decode(issuer, 'tls.crt'),
    keyPEM: decode(issuer, 'key.pem') || decode(issuer, 'tls.key'),
  };
  identity.issuer = issuerValues;
  values.identity = identity;
  for (const [key, secret] of Object.entries(WEBHOOK_SECRETS)) {
    const data = found.secrets.get(secret);
    if (!data) continue;
    values[key] = {
      ...((values[key] as Values | undefined) ?? {}),
      crtPEM: decode(data, 'tls.crt'),
      keyPEM: decode(data, 'tls.key'),
      caBundle: decode(data, 'ca.crt'),
    };
  }
  return values;
}

/** The installed values with their certificates, from the cluster. */
export async function installedValuesFromCluster(client: KubeApiClient, namespace: string): Promise<Values> {
  const get = async (kind: typeof CoreKinds.ConfigMap, name: string): Promise<Data | undefined> => {
    try {
      return (await client.get<KubeObject & { data?: Data }>(kind, { namespace, name })).data;
    } catch (err) {
      if (isNotFound(err)) return undefined;
      throw err;
    }
  };
  const secrets = new Map<string, Data>();
  for (const name of ['linkerd-identity-issuer', ...Object.values(WEBHOOK_SECRETS)]) {
    const data = await get(CoreKinds.Secret, name);
    if (data) secrets.set(name, data);
  }
  return toValues(
    {
      config: await get(CoreKinds.ConfigMap, 'linkerd-config'),
      trustRoots: await get(CoreKinds.ConfigMap, 'linkerd-identity-trust-roots'),
      secrets,
    },
    `namespace ${namespace} on ${client.server}`,
  );
}

/** The same from the YAML of a previous `tsmesh install`. */
export function installedValuesFromManifests(text: string, source: string): Values {
  const found: Found = { secrets: new Map() };
  for (const doc of parseAllDocuments(text)) {
    const o = doc.toJS() as (KubeObject & { data?: Data }) | null;
    if (!o?.metadata?.name) continue;
    if (o.kind === 'ConfigMap' && o.metadata.name === 'linkerd-config') found.config = o.data;
    if (o.kind === 'ConfigMap' && o.metadata.name === 'linkerd-identity-trust-roots')
      found.trustRoots = o.data;
    if (o.kind === 'Secret' && o.data) found.secrets.set(o.metadata.name, o.data);
  }
  return toValues(found, source);
}
