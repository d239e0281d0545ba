// The Kubernetes connection of the CLI's cluster commands: --kubeconfig (else $KUBECONFIG, else
// ~/.kube/config, else in-cluster) and --context, as kubectl picks them.
import type { KubeConfig } from '@kubernetes/client-node';
import { MeshError, MeshErrorCode } from '@tsmesh/core';
import { createKubeApiClient, loadKubeConfig as loadKubeConfigFile, type KubeApiClient } from '@tsmesh/kube';
import { VERSION } from '../version.js';

export interface KubeConnectionFlags {
  kubeconfig?: string;
  context?: string;
}

/** kube's loadKubeConfig with the CLI's error (what, where, how) and --context. */
export function loadKubeConfig(flags: KubeConnectionFlags): KubeConfig {
  let kc: KubeConfig;
  try {
    kc = loadKubeConfigFile(flags.kubeconfig);
  } catch (err) {
    throw new MeshError(MeshErrorCode.Config, `cannot load the kubeconfig: ${(err as Error).message}`, {
      where: flags.kubeconfig ?? process.env.KUBECONFIG ?? '~/.kube/config',
      hint: 'pass --kubeconfig FILE or set KUBECONFIG',
    });
  }
  if (flags.context) {
    if (!kc.getContexts().some((c) => c.name === flags.context)) {
      throw new MeshError(MeshErrorCode.Config, `no context "${flags.context}" in the kubeconfig`, {
        where: '--context',
        hint: `known contexts: ${
          kc
            .getContexts()
            .map((c) => c.name)
            .join(', ') || 'none'
        }`,
      });
    }
    kc.setCurrentContext(flags.context);
  }
  return kc;
}

/** The CLI's API client for a loaded kubeconfig (field manager and user agent `tsmesh`). */
export function kubeClientFor(kubeConfig: KubeConfig): KubeApiClient {
  return createKubeApiClient(kubeConfig, { fieldManager: 'tsmesh', userAgent: `tsmesh/${VERSION}` });
}

export function connectKube(flags: KubeConnectionFlags): KubeApiClient {
  return kubeClientFor(loadKubeConfig(flags));
}
