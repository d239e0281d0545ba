// Apply CRDs with server-side apply and wait until the apiserver serves them (Established), so
// objects of those kinds can be created right after.
import { MeshError, MeshErrorCode } from '@tsmesh/core';
import type { KubeApiClient } from './kube-api-client.js';
import { CoreKinds, type KubeObject } from '../resources/index.js';
import type { CustomResourceDefinition } from '../crds/index.js';

export interface InstallCrdsOptions {
  signal?: AbortSignal;
  /** Field manager for server-side apply. Default `tsmesh`. */
  fieldManager?: string;
  /** Give up waiting for Established after this long. Default 30 s. */
  timeoutMs?: number;
  /** Poll interval while waiting. Default 100 ms. */
  pollMs?: number;
}

interface CrdStatus extends KubeObject {
  status?: { conditions?: { type: string; status: string; reason?: string; message?: string }[] };
}

export async function installCrds(
  client: KubeApiClient,
  crds: readonly CustomResourceDefinition[],
  options: InstallCrdsOptions = {},
): Promise<void> {
  const kind = CoreKinds.CustomResourceDefinition;
  for (const crd of crds) {
    await client.apply(kind, crd, {
      force: true,
      fieldManager: options.fieldManager,
      signal: options.signal,
    });
  }
  const deadline = Date.now() + (options.timeoutMs ?? 30_000);
  for (const crd of crds) {
    for (;;) {
      const current = await client.get<CrdStatus>(
        kind,
        { name: crd.metadata.name },
        { signal: options.signal },
      );
      const conditions = current.status?.conditions ?? [];
      if (conditions.some((c) => c.type === 'Established' && c.status === 'True')) break;
      const nonStructural = conditions.find((c) => c.type === 'NonStructuralSchema' && c.status === 'True');
      if (nonStructural) {
        throw new MeshError(
          MeshErrorCode.InvalidArgument,
          `schema is not structural: ${nonStructural.message}`,
          {
            where: crd.metadata.name,
          },
        );
      }
      if (Date.now() > deadline) {
        throw new MeshError(MeshErrorCode.Timeout, 'CRD not Established in time', {
          where: crd.metadata.name,
        });
      }
      await new Promise((resolve) => setTimeout(resolve, options.pollMs ?? 100));
      options.signal?.throwIfAborted();
    }
  }
}
