// Two details of HTTP/1 messages that every HTTP/1 forwarding path needs (the plain forwarder,
// the HTTP/2-carried one, the outbound mesh exchange): whether a request has a body, and the
// corking that lets a response's head and first body chunk leave in one write.
import type { IncomingMessage, ServerResponse } from 'node:http';

const NO_BODY_METHODS = new Set(['GET', 'HEAD', 'DELETE', 'OPTIONS', 'TRACE']);

/** Whether a request has a body: framed by its headers, or by its method when it has neither. */
export function hasRequestBody(req: IncomingMessage): boolean {
  if (req.headers['transfer-encoding'] !== undefined) return true;
  const len = req.headers['content-length'];
  if (len !== undefined) return len !== '0';
  return !NO_BODY_METHODS.has(req.method ?? 'GET');
}

function uncorkLater(res: ServerResponse): void {
  if (!res.writableEnded) res.uncork();
}

/**
 * Corks a response until res.end() or the end of this tick: the head and a small (or already
 * buffered) body leave in one write — one TLS record, one syscall.
 */
export function corkForTick(res: ServerResponse): void {
  res.cork();
  process.nextTick(uncorkLater, res);
}
