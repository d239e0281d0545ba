// The names of the containers the injector adds to a pod (Linkerd's), by which the rest of the mesh
// finds them: destination (is the peer meshed?), viz (tap, scraping, viz check), the injector itself.

/** The proxy: a container, or a native-sidecar init container. */
export const PROXY_CONTAINER_NAME = 'linkerd-proxy';
