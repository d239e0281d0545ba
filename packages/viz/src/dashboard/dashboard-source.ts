// Where the dashboard's numbers come from: a Prometheus server (cluster mode, the queries as
// linkerd-viz's metrics-api writes them) or, in local mode, the proxies' /metrics scraped every
// interval, a window of snapshots kept so rates are over the last `windowMs` (the oldest kept
// snapshot inside the window against the newest). Either way the API asks one `vectors()`.
import { MeshError, MeshErrorCode } from '@tsmesh/core';
import { createPrometheusVectors } from '../metrics-api/prometheus-vectors.js';
import {
  createScrapeVectors,
  scrapeTargets,
  type ScrapeTarget,
  type Snapshot,
} from '../metrics-api/scrape-vectors.js';
import type { WindowVectors } from '../metrics-api/window-vectors.js';

export interface DashboardSource {
  /** 'prometheus' or 'scrape' (shown in the page header). */
  readonly mode: 'prometheus' | 'scrape';
  /** The window rates are over, in seconds. */
  readonly windowSeconds: number;
  /** Vectors over the latest window; undefined while a scrape source has fewer than two scrapes. */
  vectors(): WindowVectors | undefined;
  /** Called every interval by the server (a scrape source scrapes here). */
  refresh(signal: AbortSignal): Promise<void>;
  /** Targets that could not be scraped at the last refresh (scrape mode), with why. */
  problems(): readonly { url: string; error: string }[];
}

export interface ScrapeSourceOptions {
  /** The proxies to scrape, asked at every refresh (pods come and go). */
  readonly targets: (signal: AbortSignal) => Promise<readonly ScrapeTarget[]>;
  /** Rates over this window (default 10 s, at least 1 s). */
  readonly windowMs?: number;
  readonly scrapeTimeoutMs?: number;
}

export function createScrapeSource(options: ScrapeSourceOptions): DashboardSource {
  const windowMs = options.windowMs ?? 10_000;
  if (!(windowMs >= 1000))
    throw new MeshError(MeshErrorCode.InvalidArgument, `window ${windowMs} ms is shorter than 1 s`, {
      where: 'dashboard scrape source',
    });
  let snapshots: Snapshot[] = [];
  let problems: readonly { url: string; error: string }[] = [];
  return {
    mode: 'scrape',
    windowSeconds: windowMs / 1000,
    vectors() {
      // Snapshots are kept only inside the window: the first is the oldest one in it.
      const [first, latest] = [snapshots[0], snapshots.at(-1)];
      return first && latest && latest.atMs > first.atMs ? createScrapeVectors(first, latest) : undefined;
    },
    async refresh(signal) {
      let targets: readonly ScrapeTarget[];
      try {
        targets = await options.targets(signal);
      } catch (e) {
        problems = [{ url: '(target list)', error: (e as Error).message }];
        return;
      }
      const snapshot = await scrapeTargets(targets, {
        timeoutMs: options.scrapeTimeoutMs ?? 2_000,
        signal,
      });
      problems = snapshot.failures;
      snapshots = [...snapshots.filter((s) => snapshot.atMs - s.atMs <= windowMs), snapshot];
    },
    problems: () => problems,
  };
}

export interface PrometheusSourceOptions {
  readonly url: string;
  readonly windowSeconds?: number;
  readonly timeoutMs?: number;
}

export function createPrometheusSource(options: PrometheusSourceOptions): DashboardSource {
  try {
    new URL(options.url);
  } catch {
    throw new MeshError(MeshErrorCode.InvalidArgument, `bad Prometheus URL ${JSON.stringify(options.url)}`, {
      where: '--prometheus-url',
      hint: 'e.g. http://127.0.0.1:9090',
    });
  }
  const windowSeconds = options.windowSeconds ?? 60;
  const vectors = createPrometheusVectors({
    url: options.url,
    windowSeconds,
    ...(options.timeoutMs !== undefined ? { timeoutMs: options.timeoutMs } : {}),
  });
  return {
    mode: 'prometheus',
    windowSeconds,
    vectors: () => vectors,
    refresh: async () => {},
    problems: () => [],
  };
}
