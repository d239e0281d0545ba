export {
  createSubjectAccessReviewAuthorizer,
  TAP_API_GROUP,
  TAP_API_VERSION,
  tapResourceAttributes,
  tokenMatches,
  type TapAuthorizer,
  type TapCaller,
  type TapDecision,
} from './tap-authorizer.js';
export {
  formatTapIp,
  toTapEventJson,
  type TapDuration,
  type TapEndpoint,
  type TapEventJson,
  type TapHeader,
  type TapStreamId,
} from './tap-event-json.js';
export {
  aggregatorAuthenticator,
  startTapApiServer,
  type TapApiServer,
  type TapApiServerOptions,
} from './tap-api-server.js';
export {
  bearerTokenAuthenticator,
  createTapHttpHandler,
  TAP_API_PREFIX,
  requestHeaderAuthenticator,
  type TapAuthenticator,
  type TapHttpOptions,
} from './tap-http.js';
export {
  DEFAULT_MAX_RPS,
  observeMatch,
  parseTapQuery,
  parseTapTarget,
  pluralResourceName,
  shortResourceName,
  TAP_RESOURCE_TYPES,
  type TapQuery,
  type TapQueryInput,
  type TapResourceType,
  type TapTarget,
} from './tap-query.js';
export { grpcCodeName, renderTapLine } from './render-tap.js';
export {
  createTapService,
  type TapService,
  type TapServiceOptions,
  type TapStreamItem,
} from './tap-service.js';
export {
  addressLabelsIndex,
  noPodsError,
  podInTarget,
  selectTapPods,
  TAP_DISABLED_ANNOTATION,
  TAP_ENABLED_ANNOTATION,
  type TapPod,
  type TapPodSelection,
} from './tap-targets.js';
export {
  createTopTable,
  formatTopLatency,
  formatTopTable,
  topRowsJson,
  type TopRow,
  type TopTable,
} from './top-table.js';
export {
  readRequestHeaderConfig,
  startClusterTapServer,
  type ClusterTapServerOptions,
  type RequestHeaderConfig,
} from './cluster-tap-server.js';
