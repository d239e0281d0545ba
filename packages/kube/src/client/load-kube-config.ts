// Where a controller binary finds its cluster: the --kubeconfig file when given, else client-node's
// default (KUBECONFIG, ~/.kube/config, or the pod's service account in-cluster).
import { KubeConfig } from '@kubernetes/client-node';

export function loadKubeConfig(file?: string): KubeConfig {
  const kubeConfig = new KubeConfig();
  if (file) kubeConfig.loadFromFile(file);
  else kubeConfig.loadFromDefault();
  return kubeConfig;
}
