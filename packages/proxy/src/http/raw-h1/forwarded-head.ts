// The heads the raw-socket engine writes: a request head for the upstream and a response head for
// the client. Connection-specific headers stop at this hop (RFC 9110 §7.6.1: the hop-by-hop set of
// ../headers.ts and every name the message's Connection header lists); the body framing headers
// are written anew from what framing.ts decided, so a repeated or listed Content-Length leaves as
// one value and no hop ever reads a body two ways. Versions are this proxy's own (HTTP/1.1,
// RFC 9110 §6.2).
import { STATUS_CODES } from 'node:http';
import { isHopByHop } from '../headers.js';
import type { MessageFraming } from './framing.js';
import type { HttpVersion, RequestHead, ResponseHead } from './head-parser.js';

/** A connection option or hop-by-hop name, or a framing header written anew. */
function dropped(lower: string, framing: MessageFraming): boolean {
  return (
    isHopByHop(lower) ||
    lower === 'content-length' ||
    (framing.connectionOptions.length > 0 && framing.connectionOptions.includes(lower))
  );
}

export interface ForwardedRequest {
  readonly text: string;
  /** The client asked `Expect: 100-continue` (answered by the proxy, not forwarded). */
  readonly expectContinue: boolean;
}

/**
 * The request head for the upstream: `remove` (lower-case names) dropped, `add` appended, the
 * body framed as `framing` says (a chunked body is forwarded chunked, a sized one with its length).
 */
export function forwardedRequestHead(
  head: RequestHead,
  framing: MessageFraming,
  remove: readonly string[] | undefined,
  add: Readonly<Record<string, string>> | undefined,
): ForwardedRequest {
  let text = `${head.method} ${head.target} HTTP/1.1\r\n`;
  let expectContinue = false;
  const h = head.headers;
  for (let i = 0; i < h.length; i += 2) {
    const name = h[i] as string;
    const lower = name.toLowerCase();
    if (dropped(lower, framing)) {
      if (lower === 'expect' && (h[i + 1] as string).toLowerCase() === '100-continue') expectContinue = true;
      continue;
    }
    if (remove !== undefined && remove.includes(lower)) continue;
    text += `${name}: ${h[i + 1] as string}\r\n`;
  }
  const body = framing.body;
  if (body.kind === 'length') text += `content-length: ${body.length}\r\n`;
  else if (body.kind === 'chunked') text += 'transfer-encoding: chunked\r\n';
  else if (head.fields.contentLength.length > 0) text += 'content-length: 0\r\n';
  if (add !== undefined) for (const k in add) text += `${k}: ${add[k] as string}\r\n`;
  return { text: `${text}\r\n`, expectContinue };
}

/**
 * An Upgrade request's head for the upstream, as received (its Connection and Upgrade headers are
 * the point of it) but with `remove` dropped and `add` appended.
 */
export function upgradeRequestHead(
  head: RequestHead,
  remove: readonly string[] | undefined,
  add: Readonly<Record<string, string>> | undefined,
): string {
  let text = `${head.method} ${head.target} HTTP/1.1\r\n`;
  const h = head.headers;
  for (let i = 0; i < h.length; i += 2) {
    const name = h[i] as string;
    if (remove !== undefined && remove.includes(name.toLowerCase())) continue;
    text += `${name}: ${h[i + 1] as string}\r\n`;
  }
  if (add !== undefined) for (const k in add) text += `${k}: ${add[k] as string}\r\n`;
  return `${text}\r\n`;
}

/** How the client receives a response body. */
export const ClientBody = {
  /** No body (HEAD, 204, 304): Content-Length passes as the server sent it. */
  None: 0,
  Length: 1,
  /** Chunked as received (an HTTP/1.1 client). */
  Chunked: 2,
  /** Until the connection closes: a close-delimited body, or a chunked one decoded for HTTP/1.0. */
  UntilClose: 3,
} as const;
export type ClientBody = (typeof ClientBody)[keyof typeof ClientBody];

/** How a response with `framing` reaches a client speaking `clientVersion`. */
export function clientBody(framing: MessageFraming, clientVersion: HttpVersion): ClientBody {
  switch (framing.body.kind) {
    case 'none':
      return ClientBody.None;
    case 'length':
      return ClientBody.Length;
    case 'chunked':
      return clientVersion === '1.1' ? ClientBody.Chunked : ClientBody.UntilClose;
    default:
      return ClientBody.UntilClose;
  }
}

export interface ForwardedResponse {
  readonly text: string;
  /** The response's grpc-status header, when it has one (a trailers-only gRPC answer). */
  readonly grpcStatus: string | undefined;
}

/** The response head for the client; `close` adds `connection: close`. */
export function forwardedResponseHead(
  head: ResponseHead,
  framing: MessageFraming,
  body: ClientBody,
  close: boolean,
): ForwardedResponse {
  let text = `HTTP/1.1 ${head.status} ${head.reason || (STATUS_CODES[head.status] ?? '')}\r\n`;
  let grpcStatus: string | undefined;
  let length: string | undefined;
  const h = head.headers;
  for (let i = 0; i < h.length; i += 2) {
    const name = h[i] as string;
    const lower = name.toLowerCase();
    if (dropped(lower, framing)) {
      if (lower === 'content-length') length ??= h[i + 1] as string;
      continue;
    }
    if (lower === 'grpc-status') grpcStatus = h[i + 1] as string;
    text += `${name}: ${h[i + 1] as string}\r\n`;
  }
  if (body === ClientBody.Length && framing.body.kind === 'length')
    text += `content-length: ${framing.body.length}\r\n`;
  else if (body === ClientBody.Chunked) text += 'transfer-encoding: chunked\r\n';
  else if (body === ClientBody.None && length !== undefined)
    text += `content-length: ${length.split(',')[0]?.trim() ?? length}\r\n`;
  if (close) text += 'connection: close\r\n';
  return { text: `${text}\r\n`, grpcStatus };
}

/**
 * A response the proxy makes itself, always with a length, as a latin1 string to write; `close`
 * ends the connection after it.
 */
export function proxyResponse(
  status: number,
  headers: Readonly<Record<string, string | number>>,
  body: string,
  close: boolean,
): string {
  let text = `HTTP/1.1 ${status} ${STATUS_CODES[status] ?? ''}\r\n`;
  for (const k in headers) text += `${k}: ${headers[k] as string}\r\n`;
  // The body leaves as UTF-8 (messages quote RFC sections with "§"): its bytes as a latin1 string,
  // since the engine writes its strings as latin1.
  const bytes = Buffer.from(body, 'utf8');
  text += `content-length: ${bytes.length}\r\n`;
  if (close) text += 'connection: close\r\n';
  return `${text}\r\n${bytes.toString('latin1')}`;
}
