// The per-request hooks the HTTP proxies (HTTP/1, HTTP/2, orig-proto downgrade) and the response
// relay share; a file of its own so none of them imports another for a type.
import type { IncomingHttpHeaders } from 'node:http';
import type { ProxyError } from '../errors/index.js';
import type { UpstreamTarget } from './upstream-target.js';

/** Per-request hooks: where to send it, extra headers, and how it went (for metrics). */
export interface HttpRequestContext {
  /** The target, or undefined to answer 400 (explicit mode without a usable Host). */
  readonly target: UpstreamTarget | undefined;
  /** Headers to add (e.g. l5d-client-id on inbound). */
  readonly addHeaders?: Readonly<Record<string, string>>;
  /** Headers to drop from the client's request (e.g. a spoofed l5d-client-id). */
  readonly removeHeaders?: readonly string[];
  /** When set, the upstream connection is mesh TLS to a peer that must present this identity. */
  readonly serverIdentity?: string;
  /**
   * The target is a proxy that accepts HTTP/2 (discovery's protocol hint h2): HTTP/1 requests go
   * to it as HTTP/2 streams with `l5d-orig-proto` (not Upgrade or CONNECT requests).
   */
  readonly upgradeToHttp2?: boolean;
  /**
   * Answer here instead of forwarding (a policy refusal, a rate limit, an injected failure): the
   * error's status (gRPC requests: its gRPC status in a trailers-only response) and its
   * `l5d-proxy-error` header.
   */
  readonly reject?: ProxyError;
  /** Answer with a redirect instead of forwarding (an HTTPRoute RequestRedirect filter). */
  readonly redirect?: { readonly statusCode: number; readonly location: string };
  onResponse?(
    statusCode: number | undefined,
    grpcStatus: number | undefined,
    error: string | undefined,
  ): void;
}

/**
 * An HTTP/1 request as routing reads it: what both HTTP/1 engines provide (node:http's
 * IncomingMessage has this shape; the raw-socket engine builds `headers` only when read).
 */
export interface Http1RequestView {
  readonly method?: string | undefined;
  /** The request-target as sent (origin-form, or absolute-form to a proxy). */
  readonly url?: string | undefined;
  /** `1.0` or `1.1`. */
  readonly httpVersion: string;
  /** Flat [name, value, …], names in their original case. */
  readonly rawHeaders: string[];
  /** Lower-case names; repeats joined as node:http joins them. */
  readonly headers: IncomingHttpHeaders;
  /** The Host header, when the engine has it without building `headers` (see requestHost). */
  readonly host?: string | undefined;
}

/** A request's Host header, without building its header object when the engine has it apart. */
export function requestHost(req: Http1RequestView): string | undefined {
  return 'host' in req ? req.host : req.headers.host;
}
