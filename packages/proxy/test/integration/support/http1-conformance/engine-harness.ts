// An HTTP/1 engine under test, fed the way the proxy feeds it: a net server on 127.0.0.1 port 0
// hands every accepted socket to accept() with no detected bytes. route() answers what the test
// set (by default: forward to the current upstream) and records every onResponse call, so a test
// can check that each request is reported exactly once, with its status and error label.
import { createServer, type Server, type Socket } from 'node:net';
import { once } from 'node:events';
import { Waiters } from './waiters.js';
import type { Http1Proxy, Http1ProxyOptions, HttpRequestContext } from '../../../../src/http/index.js';

/** createHttp1Proxy, or another engine with the same interface. */
export type EngineFactory = (options: Http1ProxyOptions<object>) => Http1Proxy<object>;

export interface ResponseOutcome {
  readonly url: string | undefined;
  readonly status: number | undefined;
  readonly grpcStatus: number | undefined;
  readonly error: string | undefined;
}

export type RouteAnswer = Omit<HttpRequestContext, 'onResponse'>;
/** The request route() is given (node:http's IncomingMessage, or a view of the same shape). */
export type RoutedRequest = Parameters<Http1ProxyOptions<object>['route']>[0];

export interface EngineHarness {
  readonly port: number;
  /** What route() answers (at first: no target); `forwardTo` sets the usual one. */
  route: (req: RoutedRequest) => RouteAnswer;
  forwardTo(port: number): void;
  /** Every onResponse call, in order. */
  readonly outcomes: ResponseOutcome[];
  /** Every route() call's request target. */
  readonly routed: (string | undefined)[];
  /**
   * Waits until `n` requests were reported, then a little longer to catch a second report of any
   * of them: returns exactly the reports.
   */
  reported(n: number, timeoutMs?: number): Promise<ResponseOutcome[]>;
  /** The same, waiting until the request for `url` was reported (others may be too). */
  reportedFor(url: string, timeoutMs?: number): Promise<ResponseOutcome[]>;
  close(): Promise<void>;
}

/** How long reported() keeps watching for a duplicate report once the count is reached. */
const DUPLICATE_WATCH_MS = 50;

export async function startEngine(create: EngineFactory): Promise<EngineHarness> {
  const outcomes: ResponseOutcome[] = [];
  const routed: (string | undefined)[] = [];
  const waiters = new Waiters();
  const sockets = new Set<Socket>();
  const settled = async (what: string, timeoutMs = 10_000, done: () => boolean) => {
    await waiters.until(
      what,
      timeoutMs,
      () => (done() ? true : undefined),
      () => `got ${outcomes.length}: ${JSON.stringify(outcomes)}`,
    );
    await new Promise((r) => setTimeout(r, DUPLICATE_WATCH_MS));
    return [...outcomes];
  };
  const harness: Omit<EngineHarness, 'port'> & { port: number } = {
    port: 0,
    route: () => ({ target: undefined }),
    forwardTo(port) {
      harness.route = () => ({ target: { host: '127.0.0.1', port } });
    },
    outcomes,
    routed,
    reported: (n, timeoutMs) => settled(`onResponse: ${n} reports`, timeoutMs, () => outcomes.length >= n),
    reportedFor: (url, timeoutMs) =>
      settled(`onResponse: a report for ${url}`, timeoutMs, () => outcomes.some((o) => o.url === url)),
    async close() {
      await proxy.close();
      for (const s of sockets) s.destroy();
      await new Promise<void>((resolve) => listener.close(() => resolve()));
    },
  };
  const proxy = create({
    connectTimeoutMs: 2_000,
    route(req) {
      const url = req.url;
      routed.push(url);
      const answer = harness.route(req);
      return {
        ...answer,
        onResponse(status, grpcStatus, error) {
          outcomes.push({ url, status, grpcStatus, error });
          waiters.notify();
        },
      };
    },
  });
  const listener: Server = createServer((s) => {
    sockets.add(s);
    s.once('close', () => sockets.delete(s));
    proxy.accept(s, Buffer.alloc(0), {});
  });
  listener.listen(0, '127.0.0.1');
  await once(listener, 'listening');
  harness.port = (listener.address() as { port: number }).port;
  return harness;
}
