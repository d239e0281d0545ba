// What `tsmesh uninstall` prints for `kubectl delete -f -`: every object install creates, named
// (cluster-scoped ones included: RBAC, webhook configurations, CRDs), without their contents.
import { crdManifests } from '@tsmesh/kube';
import { renderControlPlane, type KubeManifest } from './render-control-plane.js';
import { completeCertificates } from './certificates.js';
import { defaultValues } from './values.js';

/** References to delete, namespaced objects first and the namespace and CRDs last. */
export function uninstallManifests(namespace: string, options: { crds?: boolean } = {}): KubeManifest[] {
  const values = completeCertificates(defaultValues(), namespace);
  values.enablePodDisruptionBudget = true;
  const objects = renderControlPlane(values, { namespace });
  const ref = (o: { apiVersion: string; kind: string; metadata: Record<string, unknown> }): KubeManifest => ({
    apiVersion: o.apiVersion,
    kind: o.kind,
    metadata: {
      name: o.metadata.name,
      ...(o.metadata.namespace ? { namespace: o.metadata.namespace } : {}),
    },
  });
  const refs = objects.filter((o) => o.kind !== 'Namespace').map(ref);
  refs.push(...objects.filter((o) => o.kind === 'Namespace').map(ref));
  if (options.crds ?? true) refs.push(...crdManifests({ gatewayApi: false }).map((c) => ref(c as never)));
  return refs;
}
