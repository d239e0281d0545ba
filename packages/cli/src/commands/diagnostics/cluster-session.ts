// One connection to the cluster for a diagnostics command: the kubeconfig (global --kubeconfig and
// --context), an API client, and the namespace (-n, else the context's, else default).
import type { KubeConfig } from '@kubernetes/client-node';
import { MeshError, MeshErrorCode, parseDurationMs } from '@tsmesh/core';
import type { KubeApiClient } from '@tsmesh/kube';
import { kubeClientFor, loadKubeConfig } from '../../check/index.js';
import { resolveNamespace, type GlobalClusterFlags } from '../global-options.js';

export interface ClusterSession {
  readonly kubeConfig: KubeConfig;
  readonly client: KubeApiClient;
  readonly namespace: string;
  close(): void;
}

export function openClusterSession(flags: GlobalClusterFlags): ClusterSession {
  const kubeConfig = loadKubeConfig(flags);
  const client = kubeClientFor(kubeConfig);
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
  } catch (err) {
    throw withAccessHint(err);
  } finally {
    session.close();
  }
}

/** Adds how to fix it to the API server's 401 and 403 answers (which say only what was refused). */
export function withAccessHint(err: unknown): unknown {
  const status = (err as { statusCode?: number }).statusCode;
  if (!MeshError.is(err) || err.hint || (status !== 401 && status !== 403)) return err;
  return new MeshError(err.code, err.message, {
    where: err.where,
    hint:
      status === 401
        ? 'the kubeconfig credentials were not accepted: refresh them or pick another --context'
        : 'the kubeconfig user lacks this permission: check with kubectl auth can-i, or use another --context',
    cause: err,
  });
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
