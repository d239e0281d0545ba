// Tap events as `linkerd viz tap` prints them: one `req`, `rsp` or `end` line per event, with the
// proxy direction, addresses and TLS of the peer; `-o wide` adds the resources of both ends
// (`src_res=deploy/web src_ns=emojivoto`, or the pod when the resource kind is not known).
import type { TapEndpoint, TapEventJson, TapDuration } from './tap-event-json.js';
import { shortResourceName, type TapResourceType } from './tap-query.js';

const GRPC_CODES = [
  'OK',
  'Canceled',
  'Unknown',
  'InvalidArgument',
  'DeadlineExceeded',
  'NotFound',
  'AlreadyExists',
  'PermissionDenied',
  'ResourceExhausted',
  'FailedPrecondition',
  'Aborted',
  'OutOfRange',
  'Unimplemented',
  'Internal',
  'Unavailable',
  'DataLoss',
  'Unauthenticated',
];

/** A gRPC status code as Go's codes.Code prints it (`Code(N)` when unknown). */
export const grpcCodeName = (code: number): string => GRPC_CODES[code] ?? `Code(${code})`;

const micros = (d: TapDuration) => Math.round(d.seconds * 1e6 + d.nanos / 1e3);

const addr = (e: TapEndpoint) => (e.ip.includes(':') ? `[${e.ip}]:${e.port}` : `${e.ip}:${e.port}`);

function resourceOf(e: TapEndpoint, side: 'src' | 'dst', type: TapResourceType): string {
  let s = '';
  const name = e.metadata[type];
  if (name) s = ` ${side}_res=${shortResourceName(type)}/${name}`;
  else if (e.metadata.pod) s = ` ${side}_pod=${e.metadata.pod}`;
  if (type !== 'namespace' && e.metadata.namespace) s += ` ${side}_ns=${e.metadata.namespace}`;
  return s;
}

/** One line of `viz tap` output; `wide` is the tapped resource's type for `-o wide`. */
export function renderTapLine(e: TapEventJson, wide?: TapResourceType): string {
  const inbound = e.proxyDirection === 'INBOUND';
  const proxy = inbound ? 'in ' : e.proxyDirection === 'OUTBOUND' ? 'out' : '???';
  const tls = inbound ? (e.source.metadata.tls ?? '') : (e.destination.metadata.tls ?? '');
  const flow = `proxy=${proxy} src=${addr(e.source)} dst=${addr(e.destination)} tls=${tls}`;
  const resources = wide
    ? resourceOf(e.source, 'src', wide) +
      resourceOf(e.destination, 'dst', wide) +
      Object.entries(e.routeMeta)
        .map(([k, v]) => ` rt_${k}=${v}`)
        .join('')
    : '';
  if (e.requestInitEvent) {
    const r = e.requestInitEvent;
    return `req id=${r.id.base}:${r.id.stream} ${flow} :method=${r.method} :authority=${r.authority} :path=${r.path}${resources}`;
  }
  if (e.responseInitEvent) {
    const r = e.responseInitEvent;
    return `rsp id=${r.id.base}:${r.id.stream} ${flow} :status=${r.httpStatus} latency=${micros(r.sinceRequestInit)}µs${resources}`;
  }
  if (e.responseEndEvent) {
    const r = e.responseEndEvent;
    const tail = `duration=${micros(r.sinceResponseInit)}µs response-length=${r.responseBytes}B${resources}`;
    const id = `end id=${r.id.base}:${r.id.stream} ${flow}`;
    if (r.grpcStatusCode !== undefined) return `${id} grpc-status=${grpcCodeName(r.grpcStatusCode)} ${tail}`;
    if (r.resetErrorCode !== undefined) return `${id} reset-error=${r.resetErrorCode} ${tail}`;
    return `${id} ${tail}`;
  }
  return `unknown ${flow}`;
}
