export {
  defaultValues,
  formatDefaultValues,
  haValues,
  mergeValues,
  parseSetFlag,
  readValuesFile,
  validateValues,
  VALUES_SCHEMA,
  type ComponentValues,
  type ImageValues,
  type InstallValues,
  type Values,
  type WebhookValues,
} from './values.js';
export { completeCertificates, type IdentityFiles } from './certificates.js';
export { createWebhookCertificate, type WebhookCertificate } from './webhook-certificates.js';
export {
  CONTROL_PLANE_COMPONENTS,
  formatManifests,
  publicValues,
  renderControlPlane,
  type ControlPlaneComponent,
  type KubeManifest,
  type RenderOptions,
} from './render-control-plane.js';
export { resolveInstallValues, type InstallFlags } from './install-values.js';
export { uninstallManifests } from './uninstall-manifests.js';
export { installedValuesFromCluster, installedValuesFromManifests } from './existing-install.js';
export { generateHelmCharts, helmChartYaml } from './helm-chart.js';
export {
  crdsWithoutV1,
  GATEWAY_API_INSTALL_HINT,
  GRPC_ROUTE_CRD,
  HTTP_ROUTE_CRD,
  inspectGatewayApi,
  installCrdManifests,
  planGatewayApiCrds,
  resolveCrdValues,
  type CrdValues,
  type GatewayApiOwner,
  type GatewayApiState,
} from './gateway-api.js';
