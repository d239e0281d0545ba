export { connectKube, kubeClientFor, loadKubeConfig, type KubeConnectionFlags } from './kube-connection.js';
export {
  formatReport,
  HINT_BASE,
  runChecks,
  type CategoryResult,
  type Check,
  type CheckCategory,
  type CheckReport,
  type CheckResult,
  type CheckStatus,
  type RunChecksOptions,
} from './run-checks.js';
export {
  meshCheckCategories,
  MIN_KUBERNETES_VERSION,
  MIN_VALIDITY_DAYS,
  type MeshCheckOptions,
} from './mesh-checks.js';
