// Where viz's numbers come from: a Prometheus server (--prometheus-url, queries as linkerd-viz's
// metrics-api writes them) or, in local mode, the proxies' /metrics scraped twice a window apart
// (--state: the pods the local control plane knows).
import { MeshError, MeshErrorCode } from '@tsmesh/core';
import { sleep, type KubeObject } from '@tsmesh/kube';
import {
  createPrometheusVectors,
  createScrapeVectors,
  podScrapeTargets,
  scrapeTargets,
  type WindowVectors,
} from '@tsmesh/viz';
import { defaultStateDir, readControlPlaneInfo, statePaths } from '../../local/index.js';
import { durationFlag } from '../duration-flag.js';

export interface VizSourceFlags {
  prometheusUrl?: string;
  state?: string;
  timeWindow?: string;
}

/** The metrics source and, in local mode, the pods (for MESHED's total). */
export interface Source {
  readonly vectors: WindowVectors;
  readonly pods: readonly KubeObject[] | undefined;
}

const windowSecondsOf = (flags: VizSourceFlags): number =>
  durationFlag(flags.timeWindow ?? (flags.prometheusUrl ? '1m' : '10s'), '--time-window', {
    what: 'time window',
    minMs: 1000,
  }) / 1000;

/** The pods the local control plane in `stateDir` knows (its API's /v1/pods). */
export async function localPods(stateDir: string, signal?: AbortSignal): Promise<KubeObject[]> {
  const info = readControlPlaneInfo(statePaths(stateDir));
  try {
    const res = await fetch(new URL('/v1/pods', info.api), {
      signal: AbortSignal.any([AbortSignal.timeout(5000), ...(signal ? [signal] : [])]),
    });
    return ((await res.json()) as { items: KubeObject[] }).items;
  } catch (cause) {
    throw new MeshError(MeshErrorCode.Unavailable, `the local control plane at ${info.api} did not answer`, {
      cause,
      where: statePaths(stateDir).controlPlane,
      hint: 'start it with `tsmesh up` (or `tsmesh demo`) on this state directory',
    });
  }
}

export async function openSource(flags: VizSourceFlags, signal?: AbortSignal): Promise<Source> {
  const windowSeconds = windowSecondsOf(flags);
  if (flags.prometheusUrl) {
    try {
      new URL(flags.prometheusUrl);
    } catch {
      throw new MeshError(MeshErrorCode.InvalidArgument, `bad URL ${JSON.stringify(flags.prometheusUrl)}`, {
        where: '--prometheus-url',
        hint: 'e.g. http://127.0.0.1:9090',
      });
    }
    return {
      vectors: createPrometheusVectors({
        url: flags.prometheusUrl,
        windowSeconds,
        ...(signal ? { signal } : {}),
      }),
      pods: undefined,
    };
  }
  const pods = await localPods(flags.state ?? defaultStateDir(), signal);
  const targets = podScrapeTargets(pods);
  if (targets.length === 0)
    throw new MeshError(MeshErrorCode.NotFound, 'no meshed pods are running', {
      where: flags.state ?? defaultStateDir(),
      hint: 'start workloads with `tsmesh run` (or `tsmesh demo`)',
    });
  const first = await scrapeTargets(targets, signal ? { signal } : {});
  if (!(await sleep(windowSeconds * 1000, signal))) throw signal?.reason;
  const second = await scrapeTargets(targets, signal ? { signal } : {});
  return { vectors: createScrapeVectors(first, second), pods };
}
