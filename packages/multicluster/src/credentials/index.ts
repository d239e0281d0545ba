// Link credentials: the target cluster's kubeconfig in a Secret.
export {
  KUBECONFIG_KEY,
  kubeConfigFromSecret,
  parseKubeConfig,
  readClusterCredentials,
} from './cluster-credentials.js';
