// The dashboard server's JSON API (packages/viz/src/dashboard), typed by the server's own types,
// and a polling hook: every view re-reads its data every couple of seconds.
import { useEffect, useState } from 'react';
import type { AuthzRow } from '../../src/dashboard/authz-summary.ts';
import type { SeriesPoint } from '../../src/dashboard/stat-history.ts';
import type { Edge } from '../../src/metrics-api/edges.ts';
import type { StatRow } from '../../src/metrics-api/stat-summary.ts';

export type { AuthzRow, Edge, SeriesPoint, StatRow };

export interface Meta {
  readonly mode: 'prometheus' | 'scrape';
  readonly windowSeconds: number;
  readonly problems: readonly { url: string; error: string }[];
  readonly tap: boolean;
}

export interface Rows<T> {
  readonly rows: readonly T[];
  /** The server has not collected a full window yet. */
  readonly warming?: boolean;
}

export interface Polled<T> {
  readonly data: T | undefined;
  readonly error: string | undefined;
}

export const POLL_MS = 2000;

export async function getJson<T>(path: string, signal?: AbortSignal): Promise<T> {
  const res = await fetch(path, signal ? { signal } : {});
  const body = (await res.json()) as T & { error?: string; hint?: string };
  if (!res.ok)
    throw new Error(body.hint ? `${body.error} (${body.hint})` : (body.error ?? `HTTP ${res.status}`));
  return body;
}

/** Fetches `path` now and every POLL_MS; undefined path: nothing. Keeps the last good data on an error. */
export function usePolled<T>(path: string | undefined): Polled<T> {
  const [state, setState] = useState<Polled<T>>({ data: undefined, error: undefined });
  useEffect(() => {
    setState({ data: undefined, error: undefined });
    if (!path) return;
    const controller = new AbortController();
    let timer: number | undefined;
    const tick = async () => {
      try {
        const data = await getJson<T>(path, controller.signal);
        setState({ data, error: undefined });
      } catch (e) {
        if (controller.signal.aborted) return;
        setState((s) => ({ data: s.data, error: (e as Error).message }));
      }
      if (!controller.signal.aborted) timer = window.setTimeout(() => void tick(), POLL_MS);
    };
    void tick();
    return () => {
      controller.abort();
      window.clearTimeout(timer);
    };
  }, [path]);
  return state;
}

export const query = (path: string, params: Record<string, string | undefined>): string => {
  const q = new URLSearchParams();
  for (const [k, v] of Object.entries(params)) if (v) q.set(k, v);
  const text = q.toString();
  return text ? `${path}?${text}` : path;
};
