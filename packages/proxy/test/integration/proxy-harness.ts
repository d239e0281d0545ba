// Test harness: a real proxy on loopback ports chosen by the kernel, configured through the same
// environment map a pod would have, plus small real servers for it to forward to.
import { once } from 'node:events';
import { createServer as createHttpServer, type RequestListener, type Server as HttpServer } from 'node:http';
import { createServer as createNetServer, type Server, type Socket } from 'node:net';
import { ProxyEnv } from '@tsmesh/core';
import { createEnvSource, readProxyConfig, TsmeshProxyEnv } from '../../src/config/index.js';
import { startProxy, type RunningProxy, type StartProxyOptions } from '../../src/runtime/index.js';

export const LOOPBACK_ENV: Readonly<Record<string, string>> = {
  [ProxyEnv.InboundListenAddr]: '127.0.0.1:0',
  [ProxyEnv.OutboundListenAddr]: '127.0.0.1:0',
  [ProxyEnv.AdminListenAddr]: '127.0.0.1:0',
  [ProxyEnv.InboundConnectTimeout]: '1s',
  [ProxyEnv.ShutdownGracePeriod]: '100ms',
};

/**
 * TSMESH_PROXY_HTTP1_ENGINE from the test run's environment, under what a test sets itself: the
 * suites run on the default engine, or on the other one with the variable set
 * (`TSMESH_PROXY_HTTP1_ENGINE=node pnpm exec vitest run --project proxy …`).
 */
const runEngine = process.env[TsmeshProxyEnv.Http1Engine];
export const ENGINE_ENV: Readonly<Record<string, string>> =
  runEngine === undefined ? {} : { [TsmeshProxyEnv.Http1Engine]: runEngine };

export interface Harness {
  readonly proxy: RunningProxy;
  readonly inboundPort: number;
  readonly outboundPort: number;
  readonly adminUrl: string;
  close(): Promise<void>;
}

export async function startHarness(
  env: Record<string, string>,
  extra: Omit<StartProxyOptions, 'config'> = {},
): Promise<Harness> {
  const config = readProxyConfig(createEnvSource({ ...LOOPBACK_ENV, ...ENGINE_ENV, ...env }));
  const proxy = await startProxy({ config, ...extra });
  return {
    proxy,
    inboundPort: proxy.inbound.listener.address.port,
    outboundPort: (proxy.outbound.listeners[0] as { address: { port: number } }).address.port,
    adminUrl: `http://127.0.0.1:${proxy.admin.address.port}`,
    close: () => proxy.shutdown(0),
  };
}

export const forwardTo = (port: number) => ({ [TsmeshProxyEnv.InboundForwardAddr]: `127.0.0.1:${port}` });

export async function listenHttp(handler: RequestListener): Promise<{ server: HttpServer; port: number }> {
  const server = createHttpServer(handler);
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  return { server, port: (server.address() as { port: number }).port };
}

const tcpSockets = new WeakMap<Server, Set<Socket>>();

export async function listenTcp(onSocket: (s: Socket) => void): Promise<{ server: Server; port: number }> {
  const sockets = new Set<Socket>();
  const server = createNetServer({ allowHalfOpen: true }, (s) => {
    sockets.add(s);
    s.once('close', () => sockets.delete(s));
    s.on('error', () => undefined);
    onSocket(s);
  });
  tcpSockets.set(server, sockets);
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  return { server, port: (server.address() as { port: number }).port };
}

/** Closes a server and every connection it still has. */
export function closeServer(server: Server | HttpServer): Promise<void> {
  return new Promise((resolve) => {
    (server as HttpServer).closeAllConnections?.();
    for (const s of tcpSockets.get(server as Server) ?? []) s.destroy();
    server.close(() => resolve());
  });
}

/** One metric sample's value from Prometheus text, matching all the given labels. */
export function sample(text: string, name: string, labels: Record<string, string> = {}): number | undefined {
  let total: number | undefined;
  for (const line of text.split('\n')) {
    if (!line.startsWith(`${name}{`) && !line.startsWith(`${name} `)) continue;
    if (!Object.entries(labels).every(([k, v]) => line.includes(`${k}="${v}"`))) continue;
    total = (total ?? 0) + Number(line.slice(line.lastIndexOf(' ') + 1));
  }
  return total;
}
