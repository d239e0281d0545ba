export {
  createTapHub,
  MAX_TAP_LIMIT,
  tapMatches,
  type TapAddress,
  type TapHandle,
  type TapHub,
  type TapRequestInfo,
  type TapResponseInfo,
  type TapSink,
} from './tap-hub.js';
export { startTapServer, type TapServer, type TapServerOptions } from './tap-server.js';
