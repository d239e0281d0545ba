// Folds the tap service's events (the JSON of `linkerd viz tap -o json`, one SSE message each)
// into one row per request: the request's init, then its response's status and latency, then its
// end (duration, bytes, gRPC status). The newest requests first, at most `max` kept.

interface Duration {
  readonly seconds?: number | string;
  readonly nanos?: number;
}

interface Peer {
  readonly ip?: string;
  readonly port?: number;
  readonly metadata?: Readonly<Record<string, string>>;
}

export interface TapEvent {
  readonly source?: Peer;
  readonly destination?: Peer;
  readonly proxyDirection?: string;
  readonly requestInitEvent?: {
    readonly id?: { base?: number; stream?: number };
    readonly method?: string;
    readonly authority?: string;
    readonly path?: string;
  };
  readonly responseInitEvent?: {
    readonly id?: { base?: number; stream?: number };
    readonly httpStatus?: number;
    readonly sinceRequestInit?: Duration;
  };
  readonly responseEndEvent?: {
    readonly id?: { base?: number; stream?: number };
    readonly sinceRequestInit?: Duration;
    readonly responseBytes?: number | string;
    readonly grpcStatusCode?: number;
    readonly resetErrorCode?: number;
  };
}

export interface TapRow {
  readonly key: string;
  readonly direction: string;
  readonly source: string;
  readonly destination: string;
  readonly tls: string;
  readonly method: string;
  readonly authority: string;
  readonly path: string;
  readonly status?: number;
  readonly latencyMs?: number;
  readonly grpcStatus?: number;
  readonly bytes?: number;
  readonly done: boolean;
}

export const durationMs = (d: Duration | undefined): number | undefined =>
  d === undefined ? undefined : Number(d.seconds ?? 0) * 1000 + (d.nanos ?? 0) / 1e6;

const peerName = (p: Peer | undefined) =>
  p?.metadata?.deployment ?? p?.metadata?.pod ?? (p?.ip ? `${p.ip}:${p.port ?? ''}` : '?');

export function applyTapEvent(rows: readonly TapRow[], e: TapEvent, max = 100): TapRow[] {
  const id =
    e.requestInitEvent?.id ?? e.responseInitEvent?.id ?? e.responseEndEvent?.id ?? ({} as { base?: number });
  const key = `${e.source?.ip ?? ''}:${e.source?.port ?? ''}>${e.proxyDirection ?? ''}#${id.base ?? 0}/${(id as { stream?: number }).stream ?? 0}`;
  if (e.requestInitEvent) {
    const row: TapRow = {
      key,
      direction: (e.proxyDirection ?? '').toLowerCase(),
      source: peerName(e.source),
      destination: peerName(e.destination),
      tls: e.destination?.metadata?.tls ?? e.source?.metadata?.tls ?? '',
      method: e.requestInitEvent.method ?? '',
      authority: e.requestInitEvent.authority ?? '',
      path: e.requestInitEvent.path ?? '',
      done: false,
    };
    return [row, ...rows.filter((r) => r.key !== key)].slice(0, max);
  }
  return rows.map((r) => {
    if (r.key !== key) return r;
    if (e.responseInitEvent)
      return {
        ...r,
        status: e.responseInitEvent.httpStatus,
        latencyMs: durationMs(e.responseInitEvent.sinceRequestInit),
      };
    if (e.responseEndEvent)
      return {
        ...r,
        done: true,
        latencyMs: durationMs(e.responseEndEvent.sinceRequestInit) ?? r.latencyMs,
        grpcStatus: e.responseEndEvent.grpcStatusCode,
        bytes:
          e.responseEndEvent.responseBytes === undefined
            ? undefined
            : Number(e.responseEndEvent.responseBytes),
      };
    return r;
  });
}
