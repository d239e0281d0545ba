// One connection to the cluster for a diagnostics command: the kubeconfig (global --kubeconfig and
// --context), an API client, and the namespace (-n, else the context's, else default).
import type { KubeConfig } from '@kubernetes/client-node';
import { MeshError, MeshErrorCode, parseDurationMs } from '@tsmesh/core';
import { createKubeApiClient, type KubeApiClient } from '@tsmesh/kube';
import { loadKubeConfig } from '../../check/index.js';
import { VERSION } from '../../version.js';
import { resolveNamespace, type GlobalClusterFlags } from '../global-options.js';

export interface ClusterSession {
  readonly kubeConfig: KubeConfig;
  readonly client: KubeApiClient;
  readonly namespace: string;
  close(): void;
}

export function openClusterSession(flags: GlobalClusterFlags): ClusterSession {
  const kubeConfig = loadKubeConfig(flags);
  const client = createKubeApiClient(kubeConfig, { fieldManager: 'tsmesh', userAgent: `tsmesh/${VERSION}` });
  return { kubeConfig, client, namespace: resolveNamespace(flags, kubeConfig), close: () => client.close() };
}

/** Runs `body` with a session and closes it afterwards. */
export async function withClusterSession<T>(
  flags: GlobalClusterFlags,
  body: (session: ClusterSession) => Promise<T>,
): Promise<T> {
  const session = openClusterSession(flags);
  try {
    return await body(session);
  } finally {
    session.close();
  }
}

export function parseWaitMs(value: string, where = '--wait'): number {
  const ms = parseDurationMs(value);
  if (ms === undefined || ms <= 0) {
    throw new MeshError(MeshErrorCode.InvalidArgument, `"${value}" is not a positive duration`, {
      where,
      hint: 'e.g. 10s, 1m',
    });
  }
  return ms;
}
