// A JSON client for the Kubernetes API (list, watch, get, create, replace, apply, delete) over
// client-node's KubeConfig, and the error type that keeps the API's status and causes.
export {
  createKubeApiClient,
  resourcePath,
  type ApplyOptions,
  type CreateKubeApiClientOptions,
  type DeleteOptions,
  type KubeApiClient,
  type KubeList,
  type ListOptions,
  type MutationOptions,
  type ObjectRef,
  type RequestOptions,
  type WatchEvent,
  type WatchEventType,
  type WatchOptions,
} from './kube-api-client.js';
export {
  isConflict,
  isGone,
  isNotFound,
  KubeApiError,
  type KubeStatus,
  type KubeStatusCause,
} from './kube-api-error.js';
export { installCrds, type InstallCrdsOptions } from './install-crds.js';
export { loadKubeConfig } from './load-kube-config.js';
