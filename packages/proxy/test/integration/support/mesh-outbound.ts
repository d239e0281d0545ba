// A real outbound proxy (listener, detection, the mesh stack) connected to a test control plane,
// plus small HTTP servers on loopback addresses 127.0.1.N standing in for pods.
import { once } from 'node:events';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { credentials } from '@grpc/grpc-js';
import { DestinationClient, OutboundPoliciesClient, ProxyEnv } from '@tsmesh/core';
import { Registry } from 'prom-client';
import { request } from 'undici';
import { createEnvSource, readProxyConfig } from '../../../src/config/index.js';
import { createDiscovery, type Discovery } from '../../../src/discovery/index.js';
import { createProxyMetrics } from '../../../src/metrics/index.js';
import {
  createMeshMetrics,
  createOutboundMesh,
  startOutbound,
  type OutboundMesh,
  type OutboundServer,
} from '../../../src/outbound/index.js';
import { afterEach, beforeEach } from 'vitest';
import { ENGINE_ENV } from '../proxy-harness.js';
import { startTestControlPlane, type TestControlPlane } from './control-plane.js';

export interface MeshOutbound {
  readonly port: number;
  readonly registry: Registry;
  readonly mesh: OutboundMesh;
  readonly discovery: Discovery;
  metric(name: string, labels?: Record<string, string>): Promise<number>;
  close(): Promise<void>;
}

export interface MeshOutboundOptions {
  readonly idleTimeoutMs?: number;
  readonly withPolicy?: boolean;
  readonly discoveryTimeoutMs?: number;
  /** Queue for backends without control-plane settings. */
  readonly queue?: { readonly capacity: number; readonly failfastMs: number };
  /** The HTTP/1 engine (default: TSMESH_PROXY_HTTP1_ENGINE of the test run, else raw). */
  readonly http1Engine?: 'raw' | 'node';
  /** The HTTP/2 engine (default: the config's, raw unless TSMESH_PROXY_HTTP2_ENGINE says node). */
  readonly http2Engine?: 'raw' | 'node';
  /** Raw engine: the client connections' timeouts. */
  readonly headersTimeoutMs?: number;
  readonly keepAliveTimeoutMs?: number;
  /** A target's policy or profile the proxy could not use. */
  onPlanError?(authority: string, err: Error): void;
}

export async function startMeshOutbound(
  cp: TestControlPlane,
  opts: MeshOutboundOptions = {},
): Promise<MeshOutbound> {
  const config = readProxyConfig(
    createEnvSource({
      [ProxyEnv.OutboundListenAddr]: '127.0.0.1:0',
      [ProxyEnv.InboundListenAddr]: '127.0.0.1:0',
      [ProxyEnv.AdminListenAddr]: '127.0.0.1:0',
      ...ENGINE_ENV,
    }),
  );
  const registry = new Registry();
  const destination = new DestinationClient(cp.address, credentials.createInsecure());
  const policy =
    opts.withPolicy === false
      ? undefined
      : new OutboundPoliciesClient(cp.address, credentials.createInsecure());
  const discovery = createDiscovery({
    destination,
    policy,
    contextToken: '{"ns":"test","nodeName":"local"}',
    sourceWorkload: 'test:client',
    idleTimeoutMs: opts.idleTimeoutMs ?? 60_000,
    backoff: { minMs: 50, maxMs: 500, jitter: 0.1 },
  });
  const proxyMetrics = createProxyMetrics(registry);
  const mesh = createOutboundMesh({
    proxyMetrics,
    discovery,
    meshTls: undefined,
    metrics: createMeshMetrics(registry),
    connectTimeoutMs: 1000,
    idleTimeoutMs: opts.idleTimeoutMs ?? 60_000,
    discoveryTimeoutMs: opts.discoveryTimeoutMs ?? 3000,
    profileTimeoutMs: 500,
    queue: opts.queue,
    http1Engine: opts.http1Engine ?? config.http1Engine,
    http2Engine: opts.http2Engine ?? config.http2Engine,
    headersTimeoutMs: opts.headersTimeoutMs,
    keepAliveTimeoutMs: opts.keepAliveTimeoutMs,
    onPlanError: opts.onPlanError,
  });
  const outbound: OutboundServer = await startOutbound({
    config,
    metrics: proxyMetrics,
    mesh,
  });
  const port = (outbound.listeners[0] as { address: { port: number } }).address.port;
  return {
    port,
    registry,
    mesh,
    discovery,
    async metric(name, labels = {}) {
      const m = await registry.getSingleMetric(name)?.get();
      let sum = 0;
      for (const v of m?.values ?? []) {
        if (
          Object.entries(labels).every(([k, val]) => String((v.labels as Record<string, unknown>)[k]) === val)
        )
          sum += v.value;
      }
      return sum;
    },
    async close() {
      await outbound.close();
      discovery.close();
      destination.close();
      policy?.close();
    },
  };
}

export interface TestServer {
  readonly host: string;
  readonly port: number;
  readonly server: Server;
  hits: number;
  close(): Promise<void>;
}

/** An HTTP server on `host` (e.g. 127.0.1.3), port chosen by the kernel. */
export async function startTestServer(
  host: string,
  handler: (req: IncomingMessage, res: ServerResponse, self: TestServer) => void,
): Promise<TestServer> {
  const self = { host, port: 0, hits: 0 } as TestServer & { server: Server };
  const server = createServer((req, res) => {
    self.hits++;
    handler(req, res, self);
  });
  server.keepAliveTimeout = 60_000;
  server.listen(0, host);
  await once(server, 'listening');
  Object.assign(self, {
    port: (server.address() as { port: number }).port,
    server,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  });
  return self;
}

/** One request through the outbound proxy with the given Host; the answer's status, headers and body. */
export async function requestVia(
  proxyPort: number,
  host: string,
  path = '/',
  init: { method?: string; body?: string; headers?: Record<string, string> } = {},
): Promise<{ status: number; headers: Record<string, string>; body: string }> {
  const res = await request(`http://127.0.0.1:${proxyPort}${path}`, {
    method: (init.method ?? 'GET') as 'GET',
    headers: { host, ...init.headers },
    body: init.body,
  });
  const body = await res.body.text();
  const headers: Record<string, string> = {};
  for (const [k, v] of Object.entries(res.headers))
    if (v !== undefined) headers[k] = Array.isArray(v) ? v.join(', ') : v;
  return { status: res.statusCode, headers, body };
}

export interface MeshTestbed {
  /** This test's control plane (a fresh one per test). */
  readonly cp: TestControlPlane;
  /** An outbound proxy on this test's control plane, closed after the test. */
  start(opts?: MeshOutboundOptions): Promise<MeshOutbound>;
  /** A test server, closed after the test. */
  server(host: string, handler: Parameters<typeof startTestServer>[1]): Promise<TestServer>;
  /** Anything else to close after the test (run first). */
  onClose(close: () => Promise<void> | void): void;
}

/** Registers vitest hooks giving each test a control plane, and closing what the test started. */
export function meshTestbed(): MeshTestbed {
  let cp: TestControlPlane | undefined;
  const closers: (() => Promise<void> | void)[] = [];
  const proxies: MeshOutbound[] = [];
  const servers: TestServer[] = [];
  beforeEach(async () => {
    cp = await startTestControlPlane();
  });
  afterEach(async () => {
    for (const c of closers.splice(0)) await c();
    for (const p of proxies.splice(0)) await p.close();
    await Promise.all(servers.splice(0).map((s) => s.close()));
    await cp?.stop();
    cp = undefined;
  });
  const current = (): TestControlPlane => {
    if (!cp) throw new Error('the test control plane exists only inside a test');
    return cp;
  };
  return {
    get cp() {
      return current();
    },
    async start(opts) {
      const p = await startMeshOutbound(current(), opts);
      proxies.push(p);
      return p;
    },
    async server(host, handler) {
      const s = await startTestServer(host, handler);
      servers.push(s);
      return s;
    },
    onClose(close) {
      closers.push(close);
    },
  };
}
