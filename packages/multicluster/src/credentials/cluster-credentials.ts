// A Link's credentials: the target cluster's kubeconfig in a Secret of type
// mirror.linkerd.io/remote-kubeconfig under the key `kubeconfig` (what `linkerd multicluster link`
// writes). Read once per (re)start of a link's watchers; a broken Secret is an error that names
// the Secret and says how to regenerate it.
import { KubeConfig } from '@kubernetes/client-node';
import { MeshError, MeshErrorCode, MulticlusterKey } from '@tsmesh/core';
import { CoreKinds, type KubeApiClient, type KubeObject } from '@tsmesh/kube';

export const KUBECONFIG_KEY = 'kubeconfig';

interface SecretObject extends KubeObject {
  type?: string;
  data?: Record<string, string>;
}

const HINT = 'regenerate it with `tsmesh --context=<target> multicluster link --cluster-name <name>`';

/** The kubeconfig in a credentials Secret, parsed and checked for a usable context. */
export function kubeConfigFromSecret(secret: KubeObject): KubeConfig {
  const s = secret as SecretObject;
  const where = `Secret ${s.metadata?.namespace}/${s.metadata?.name}`;
  if (s.type !== undefined && s.type !== MulticlusterKey.RemoteKubeconfigSecretType) {
    throw new MeshError(
      MeshErrorCode.InvalidArgument,
      `has type ${s.type}, not ${MulticlusterKey.RemoteKubeconfigSecretType}`,
      { where, hint: HINT },
    );
  }
  const data = s.data?.[KUBECONFIG_KEY];
  if (!data) {
    throw new MeshError(MeshErrorCode.InvalidArgument, `has no "${KUBECONFIG_KEY}" key`, {
      where,
      hint: HINT,
    });
  }
  return parseKubeConfig(Buffer.from(data, 'base64').toString('utf8'), `${where}: data.${KUBECONFIG_KEY}`);
}

/** A kubeconfig document with a current context that names a cluster with a server. */
export function parseKubeConfig(text: string, where: string): KubeConfig {
  const kc = new KubeConfig();
  try {
    kc.loadFromString(text);
  } catch (cause) {
    throw new MeshError(MeshErrorCode.InvalidArgument, `is not a kubeconfig: ${(cause as Error).message}`, {
      where,
      cause,
      hint: HINT,
    });
  }
  const cluster = kc.getCurrentCluster();
  if (!cluster?.server) {
    throw new MeshError(MeshErrorCode.InvalidArgument, 'has no current context with a cluster server', {
      where,
      hint: HINT,
    });
  }
  return kc;
}

/** Reads and parses the credentials Secret of a Link. */
export async function readClusterCredentials(
  client: KubeApiClient,
  namespace: string,
  name: string,
  signal?: AbortSignal,
): Promise<KubeConfig> {
  const secret = await client.get(CoreKinds.Secret, { namespace, name }, signal ? { signal } : {});
  return kubeConfigFromSecret(secret);
}
