// The outbound mesh stack with HTTP/2 and tunnels: gRPC calls routed by a GRPCRoute policy and
// balanced over discovered endpoints (status in trailers, retries on UNAVAILABLE), a gRPC error
// from the proxy as a trailers-only response, and an HTTP/1 Upgrade (WebSocket-style) tunnel.
import { once } from 'node:events';
import { createServer } from 'node:http';
import { connect } from 'node:net';
import * as grpc from '@grpc/grpc-js';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { startTestControlPlane, type TestControlPlane } from './support/control-plane.js';
import { startMeshOutbound, type MeshOutbound } from './support/mesh-outbound.js';
import { duration } from './support/policies.js';

const EMOJI = 'emoji-svc.emojivoto.svc.cluster.local:8080';
const pass = (b: Buffer) => b;
const unary = {
  path: '/emojivoto.v1.EmojiService/ListAll',
  requestStream: false,
  responseStream: false,
  requestSerialize: pass,
  requestDeserialize: pass,
  responseSerialize: pass,
  responseDeserialize: pass,
} as const;
const Service = {
  listAll: unary,
  chat: { ...unary, path: '/emojivoto.v1.EmojiService/Chat', requestStream: true, responseStream: true },
};

let cp: TestControlPlane;
let proxy: MeshOutbound | undefined;
const cleanups: (() => unknown)[] = [];
beforeEach(async () => {
  cp = await startTestControlPlane();
});
afterEach(async () => {
  await proxy?.close();
  proxy = undefined;
  for (const c of cleanups.splice(0)) await c();
  await cp.stop();
});

async function grpcServer(host: string, handler: (n: number) => grpc.ServiceError | undefined) {
  let calls = 0;
  const server = new grpc.Server();
  server.addService(Service, {
    listAll: (call: grpc.ServerUnaryCall<Buffer, Buffer>, cb: grpc.sendUnaryData<Buffer>) => {
      calls++;
      const err = handler(calls);
      if (err) cb(err);
      else cb(null, Buffer.concat([Buffer.from(`${host}:`), call.request]));
    },
    chat: (call: grpc.ServerDuplexStream<Buffer, Buffer>) => {
      call.on('data', (m: Buffer) => call.write(Buffer.concat([Buffer.from('re:'), m])));
      call.on('end', () => call.end());
    },
  });
  const port = await new Promise<number>((resolve, reject) =>
    server.bindAsync(`${host}:0`, grpc.ServerCredentials.createInsecure(), (e, p) =>
      e ? reject(e) : resolve(p),
    ),
  );
  cleanups.push(() => server.forceShutdown());
  return { host, port, calls: () => calls };
}

function client(port: number) {
  const Client = grpc.makeGenericClientConstructor(Service, 'EmojiService');
  const c = new Client(`127.0.0.1:${port}`, grpc.credentials.createInsecure(), {
    'grpc.default_authority': EMOJI,
  }) as unknown as grpc.Client & {
    listAll: (req: Buffer, cb: (err: grpc.ServiceError | null, res?: Buffer) => void) => void;
  };
  cleanups.push(() => c.close());
  return (req: string) =>
    new Promise<{ err: grpc.ServiceError | null; res?: string }>((resolve) =>
      c.listAll(Buffer.from(req), (err, res) => resolve({ err, res: res?.toString() })),
    );
}

const grpcPolicy = (retry: boolean) => ({
  metadata: {
    resource: { group: 'core', kind: 'Service', namespace: 'emojivoto', name: 'emoji-svc', port: 8080 },
  },
  protocol: {
    grpc: {
      routes: [
        {
          metadata: {
            resource: {
              group: 'gateway.networking.k8s.io',
              kind: 'GRPCRoute',
              namespace: 'emojivoto',
              name: 'emoji',
            },
          },
          rules: [
            {
              matches: [{ rpc: { service: 'emojivoto.v1.EmojiService' } }],
              backends: {
                randomAvailable: {
                  backends: [
                    {
                      weight: 1,
                      backend: {
                        backend: {
                          metadata: {
                            resource: {
                              group: 'core',
                              kind: 'Service',
                              namespace: 'emojivoto',
                              name: 'emoji-svc',
                              port: 8080,
                            },
                          },
                          balancer: {
                            discovery: { dst: { path: EMOJI } },
                            peakEwma: { defaultRtt: duration(30), decay: duration(10_000) },
                          },
                          queue: { capacity: 100, failfastTimeout: duration(500) },
                        },
                      },
                    },
                  ],
                },
              },
              ...(retry ? { retry: { maxRetries: 3, conditions: { unavailable: true } } } : {}),
            },
          ],
        },
      ],
    },
  },
});

describe.each(['raw', 'node'] as const)(
  'outbound mesh: gRPC and tunnels (HTTP/2 engine %s)',
  (http2Engine) => {
    it('routes gRPC by GRPCRoute to a discovered endpoint and retries UNAVAILABLE', async () => {
      const a = await grpcServer('127.0.1.21', (n) =>
        n % 3 === 0
          ? Object.assign(new Error('busy'), {
              code: grpc.status.UNAVAILABLE,
              details: 'busy',
              metadata: new grpc.Metadata(),
            })
          : undefined,
      );
      cp.setEndpoints(EMOJI, [a]);
      cp.setPolicy(EMOJI, grpcPolicy(true));
      proxy = await startMeshOutbound(cp, { http2Engine });
      const call = client(proxy.port);
      for (let i = 0; i < 30; i++) {
        const { err, res } = await call(`q${i}`);
        expect(err).toBeNull();
        expect(res).toBe(`127.0.1.21:q${i}`);
      }
      // Every third call fails with UNAVAILABLE and is retried.
      expect(a.calls()).toBeGreaterThanOrEqual(40);
      expect(
        await proxy.metric('outbound_grpc_route_retry_requests_total', { route_name: 'emoji' }),
      ).toBeGreaterThanOrEqual(10);
      expect(
        await proxy.metric('outbound_grpc_route_request_statuses_total', {
          route_name: 'emoji',
          grpc_status: '0',
        }),
      ).toBe(30);
    });

    it('answers a gRPC client with UNAVAILABLE and l5d-proxy-error when there are no endpoints', async () => {
      cp.setEndpoints(EMOJI, []);
      cp.setPolicy(EMOJI, grpcPolicy(false));
      proxy = await startMeshOutbound(cp, { http2Engine });
      const { err } = await client(proxy.port)('x');
      expect(err?.code).toBe(grpc.status.UNAVAILABLE);
      expect(String(err?.metadata.get('l5d-proxy-error')[0])).toMatch(/^NO_ENDPOINTS: /);
    });

    it('tunnels an HTTP/1 Upgrade to a discovered endpoint', async () => {
      const app = createServer((_req, res) => res.end());
      app.on('upgrade', (_req, socket) => {
        socket.write('HTTP/1.1 101 Switching Protocols\r\nupgrade: echo\r\nconnection: upgrade\r\n\r\n');
        socket.pipe(socket);
      });
      app.listen(0, '127.0.1.23');
      await once(app, 'listening');
      cleanups.push(() => {
        app.closeAllConnections();
        app.close();
      });
      cp.setEndpoints(EMOJI, [{ host: '127.0.1.23', port: (app.address() as { port: number }).port }]);
      proxy = await startMeshOutbound(cp, { withPolicy: false, http2Engine });
      const socket = connect(proxy.port, '127.0.0.1');
      cleanups.push(() => socket.destroy());
      await once(socket, 'connect');
      socket.write(`GET /ws HTTP/1.1\r\nHost: ${EMOJI}\r\nUpgrade: echo\r\nConnection: Upgrade\r\n\r\n`);
      let got = '';
      socket.on('data', (d: Buffer) => (got += d.toString()));
      await expect.poll(() => got, { timeout: 5000 }).toContain('101 Switching Protocols');
      socket.write('ping-through-tunnel');
      await expect.poll(() => got, { timeout: 5000 }).toContain('ping-through-tunnel');
    });

    it('carries a bidirectional gRPC stream through the mesh', async () => {
      const a = await grpcServer('127.0.1.24', () => undefined);
      cp.setEndpoints(EMOJI, [a]);
      cp.setPolicy(EMOJI, grpcPolicy(false));
      proxy = await startMeshOutbound(cp, { http2Engine });
      const Client = grpc.makeGenericClientConstructor(Service, 'EmojiService');
      const c = new Client(`127.0.0.1:${proxy.port}`, grpc.credentials.createInsecure(), {
        'grpc.default_authority': EMOJI,
      }) as unknown as grpc.Client & { chat: () => grpc.ClientDuplexStream<Buffer, Buffer> };
      cleanups.push(() => c.close());
      const call = c.chat();
      const got: string[] = [];
      call.on('data', (m: Buffer) => got.push(m.toString()));
      const ended = new Promise<void>((resolve, reject) => {
        call.on('end', resolve);
        call.on('error', reject);
      });
      for (const m of ['one', 'two', 'three']) {
        call.write(Buffer.from(m));
        await expect.poll(() => got.length, { timeout: 5000 }).toBe(['one', 'two', 'three'].indexOf(m) + 1);
      }
      call.end();
      await ended;
      expect(got).toEqual(['re:one', 're:two', 're:three']);
    });
  },
);
