export {
  createStaticCertificateSource,
  type CertificateSource,
  type MeshCertificate,
} from './certificate-source.js';
export {
  createMeshTls,
  dnsSans,
  OPAQUE_TRANSPORT_ALPN,
  type MeshTls,
  type MeshTlsOptions,
} from './mesh-tls.js';
export {
  CONTROL_PLANE_RECONNECT,
  controlPlaneChannelCredentials,
  createControlPlaneTlsCredentials,
  isLoopbackHost,
  type ControlPlaneChannel,
  type ControlPlaneConfig,
  type ControlPlaneServiceKind,
} from './control-plane-credentials.js';
