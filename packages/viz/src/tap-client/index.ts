export { observeProxy, type ObserveProxyOptions, type TapClientTls } from './observe-proxy.js';
export {
  issueTapCertificate,
  TAP_SERVICE_ACCOUNT,
  tapIdentity,
  VIZ_NAMESPACE,
  type IssueTapCertificateOptions,
} from './tap-identity.js';
