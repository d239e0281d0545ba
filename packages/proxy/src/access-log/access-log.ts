// HTTP access logs in Linkerd's two formats (config.linkerd.io/access-log → LINKERD2_PROXY_ACCESS_LOG):
//   apache: `<client addr> <client id|-> - [<RFC 3339 time, ns>] "<method> <uri> <version>" <status>`
//   json:   one object per line with Linkerd's keys (client.addr, client.id, host, method,
//           processing_ns, request_bytes, response_bytes, status, timestamp, total_ns, trace_id,
//           uri, user_agent, version).
// Off by default: the inbound path only builds an entry when a log is configured.

export type AccessLogFormat = 'apache' | 'json';

export interface AccessLogEntry {
  /** `ip:port` of the client. */
  readonly clientAddr: string;
  readonly clientId: string | undefined;
  /** When the request arrived: epoch nanoseconds. */
  readonly startedNs: bigint;
  readonly method: string;
  /** HTTP/1: the request target; HTTP/2: scheme://authority/path. */
  readonly uri: string;
  /** `HTTP/1.1`, `HTTP/2.0`. */
  readonly version: string;
  readonly status: number | undefined;
  readonly host: string;
  readonly userAgent: string;
  readonly totalNs: bigint;
  readonly traceId: string;
}

/** Epoch nanoseconds now: the wall clock anchored once, advanced by the monotonic clock. */
const ANCHOR_NS = BigInt(Date.now()) * 1_000_000n - process.hrtime.bigint();
export const nowNs = (): bigint => ANCHOR_NS + process.hrtime.bigint();

/** `2022-08-23T20:28:20.071809491Z`: RFC 3339 with nanoseconds, as linkerd2-proxy prints it. */
export function formatTimestamp(ns: bigint): string {
  const ms = ns / 1_000_000n;
  const iso = new Date(Number(ms)).toISOString(); // ...SS.mmmZ
  const nanos = (ns % 1_000_000_000n).toString().padStart(9, '0');
  return `${iso.slice(0, 19)}.${nanos}Z`;
}

export function formatAccessLog(format: AccessLogFormat, e: AccessLogEntry): string {
  const status = e.status === undefined ? '-' : String(e.status);
  if (format === 'apache') {
    return `${e.clientAddr} ${e.clientId ?? '-'} - [${formatTimestamp(e.startedNs)}] "${e.method} ${e.uri} ${e.version}" ${status}`;
  }
  return JSON.stringify({
    'client.addr': e.clientAddr,
    'client.id': e.clientId ?? '-',
    host: e.host,
    method: e.method,
    processing_ns: '',
    request_bytes: '',
    response_bytes: '',
    status: e.status ?? null,
    timestamp: formatTimestamp(e.startedNs),
    total_ns: e.totalNs.toString(),
    trace_id: e.traceId,
    uri: e.uri,
    user_agent: e.userAgent,
    version: e.version,
  });
}

export interface AccessLog {
  readonly format: AccessLogFormat;
  log(entry: AccessLogEntry): void;
  /** Writes what is buffered now (at shutdown). */
  flush(): void;
}

/** Buffered lines are written together at the end of the event-loop turn, or at this size. */
const MAX_BUFFERED_CHARS = 64 * 1024;

/**
 * An access log writing one line per entry (the binary writes to stderr). Lines are batched per
 * event-loop turn: one write for many requests instead of a (synchronous, for files and pipes)
 * stderr write per request.
 */
export function createAccessLog(format: AccessLogFormat, write: (lines: string) => void): AccessLog {
  let buffer = '';
  let scheduled = false;
  const flush = () => {
    scheduled = false;
    if (buffer === '') return;
    const out = buffer;
    buffer = '';
    write(out);
  };
  return {
    format,
    log(entry) {
      buffer += `${formatAccessLog(format, entry)}\n`;
      if (buffer.length >= MAX_BUFFERED_CHARS) flush();
      else if (!scheduled) {
        scheduled = true;
        setImmediate(flush);
      }
    },
    flush,
  };
}

/** Parses LINKERD2_PROXY_ACCESS_LOG; undefined for anything but apache or json. */
export function parseAccessLogFormat(value: string): AccessLogFormat | undefined {
  const v = value.trim().toLowerCase();
  return v === 'apache' || v === 'json' ? v : undefined;
}
