// Whether a pod is meshed, and where its proxy is: the `linkerd-proxy` container the injector adds
// is a regular container, or — where the cluster has native sidecars (Kubernetes 1.29+, the
// injector's nativeSidecar) — an init container that keeps running. Tap, scraping and viz check
// all ask this, so all ask it here.
import { PROXY_CONTAINER_NAME } from '@tsmesh/core';

interface NamedContainer {
  readonly name?: string;
}

const isProxy = (c: NamedContainer) => c.name === PROXY_CONTAINER_NAME;

/** The pod's proxy container (a container, else a native-sidecar init container); undefined if not meshed. */
export function podProxyContainer<C extends NamedContainer>(pod: {
  readonly spec?: { readonly containers?: readonly C[]; readonly initContainers?: readonly C[] };
}): C | undefined {
  return pod.spec?.containers?.find(isProxy) ?? pod.spec?.initContainers?.find(isProxy);
}
