// HTTP/2 and gRPC through the inbound proxy: h2load (nghttp2-client) for many concurrent streams,
// @grpc/grpc-js for unary and streaming calls, trailers and status, deadlines and cancellation —
// on both HTTP/2 engines (the proxy's own, the default, and node:http2).
import { execFile, spawnSync } from 'node:child_process';
import { once } from 'node:events';
import { createServer as createH2Server, type Http2Server } from 'node:http2';
import { promisify } from 'node:util';
import * as grpc from '@grpc/grpc-js';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { TsmeshProxyEnv } from '../../src/config/index.js';
import { forwardTo, sample, startHarness, type Harness } from './proxy-harness.js';

const run = promisify(execFile);
const hasH2load = spawnSync('sh', ['-c', 'command -v h2load']).status === 0;

const pass = (b: Buffer) => b;
const method = (name: string, requestStream: boolean, responseStream: boolean) => ({
  path: `/tsmesh.test.Echo/${name}`,
  requestStream,
  responseStream,
  requestSerialize: pass,
  requestDeserialize: pass,
  responseSerialize: pass,
  responseDeserialize: pass,
});
const EchoService = {
  unary: method('Unary', false, false),
  bidi: method('Bidi', true, true),
  slow: method('Slow', false, false),
  ticks: method('Ticks', false, true),
} as const;

describe.each(['raw', 'node'])('HTTP/2 engine %s', (engine) => {
  const engineEnv = { [TsmeshProxyEnv.Http2Engine]: engine };

  describe('HTTP/2 (h2load) through the inbound proxy', () => {
    let app: Http2Server;
    let h: Harness;
    beforeAll(async () => {
      app = createH2Server();
      app.on('stream', (stream) => {
        stream.respond({ ':status': 200, 'content-type': 'text/plain' });
        stream.end('hello over h2\n');
      });
      app.listen(0, '127.0.0.1');
      await once(app, 'listening');
      h = await startHarness({ ...forwardTo((app.address() as { port: number }).port), ...engineEnv });
    });
    afterAll(async () => {
      await h.close();
      app.close();
    });

    it.skipIf(!hasH2load)('serves 400 requests over 4 connections × 10 streams', async () => {
      const { stdout } = await run(
        'h2load',
        ['-n', '400', '-c', '4', '-m', '10', `http://127.0.0.1:${h.inboundPort}/`],
        {
          timeout: 15_000,
        },
      );
      expect(stdout).toMatch(
        /requests: 400 total, 400 started, 400 done, 400 succeeded, 0 failed, 0 errored/,
      );
      expect(stdout).toMatch(/status codes: 400 2xx/);
    });

    it.skipIf(!hasH2load)('ends a response without trailers with END_STREAM, not a reset', async () => {
      // nghttp (same package as h2load) prints every frame; a RST_STREAM after the body made
      // clients count the request as unprocessed.
      const { stdout } = await run('nghttp', ['-v', '-n', `http://127.0.0.1:${h.inboundPort}/`], {
        timeout: 15_000,
      });
      expect(stdout).toMatch(/recv DATA frame <length=\d+, flags=0x01, stream_id=13>|END_STREAM/);
      expect(stdout).not.toMatch(/recv RST_STREAM frame/);
    });
  });

  describe('gRPC (grpc-js) through the inbound proxy', () => {
    let server: grpc.Server;
    let h: Harness;
    let client: grpc.Client & Record<string, (...args: unknown[]) => unknown>;
    const cancelled: string[] = [];

    beforeAll(async () => {
      server = new grpc.Server();
      server.addService(EchoService, {
        unary: (call: grpc.ServerUnaryCall<Buffer, Buffer>, cb: grpc.sendUnaryData<Buffer>) => {
          if (call.request.toString() === 'missing')
            cb({ code: grpc.status.NOT_FOUND, details: 'no such thing' });
          else cb(null, Buffer.concat([Buffer.from('echo:'), call.request]), new grpc.Metadata());
        },
        bidi: (call: grpc.ServerDuplexStream<Buffer, Buffer>) => {
          call.on('data', (d: Buffer) => call.write(Buffer.concat([Buffer.from('>'), d])));
          call.on('end', () => {
            const trailer = new grpc.Metadata();
            trailer.set('x-count', 'done');
            call.end(trailer);
          });
        },
        slow: (_call: grpc.ServerUnaryCall<Buffer, Buffer>, cb: grpc.sendUnaryData<Buffer>) => {
          setTimeout(() => cb(null, Buffer.from('late')), 1000);
        },
        ticks: (call: grpc.ServerWritableStream<Buffer, Buffer>) => {
          const timer = setInterval(() => call.write(Buffer.from('tick')), 10);
          call.on('cancelled', () => {
            clearInterval(timer);
            cancelled.push('ticks');
          });
        },
      });
      const port = await new Promise<number>((resolve, reject) =>
        server.bindAsync('127.0.0.1:0', grpc.ServerCredentials.createInsecure(), (err, p) =>
          err ? reject(err) : resolve(p),
        ),
      );
      h = await startHarness({ ...forwardTo(port), ...engineEnv });
      const Client = grpc.makeGenericClientConstructor(EchoService, 'Echo');
      client = new Client(`127.0.0.1:${h.inboundPort}`, grpc.credentials.createInsecure()) as typeof client;
    });
    afterAll(async () => {
      client.close();
      await h.close();
      server.forceShutdown();
    });

    const unary = (name: string, body: string, deadlineMs = 5000) =>
      new Promise<Buffer>((resolve, reject) =>
        (client[name] as (...a: unknown[]) => void)(
          Buffer.from(body),
          { deadline: Date.now() + deadlineMs },
          (err: Error | null, res: Buffer) => (err ? reject(err) : resolve(res)),
        ),
      );

    it('unary calls succeed and fail with the server status', async () => {
      expect((await unary('unary', 'hi')).toString()).toBe('echo:hi');
      await expect(unary('unary', 'missing')).rejects.toMatchObject({
        code: grpc.status.NOT_FOUND,
        details: 'no such thing',
      });
    });

    it('bidirectional streams carry messages and trailers', async () => {
      const call = (client.bidi as () => grpc.ClientDuplexStream<Buffer, Buffer>)();
      const got: string[] = [];
      call.on('data', (d: Buffer) => got.push(d.toString()));
      const status = new Promise<grpc.StatusObject>((r) => call.on('status', r));
      for (const m of ['a', 'b', 'c']) call.write(Buffer.from(m));
      call.end();
      const s = await status;
      expect(got).toEqual(['>a', '>b', '>c']);
      expect(s.code).toBe(grpc.status.OK);
      expect(s.metadata.get('x-count')).toEqual(['done']);
    });

    it('deadlines expire and cancellation reaches the server', async () => {
      await expect(unary('slow', 'x', 100)).rejects.toMatchObject({ code: grpc.status.DEADLINE_EXCEEDED });
      const call = (client.ticks as (b: Buffer) => grpc.ClientReadableStream<Buffer>)(Buffer.from('go'));
      call.on('error', () => undefined);
      await once(call, 'data');
      call.cancel();
      await expect.poll(() => cancelled).toEqual(['ticks']);
    });

    it('labels responses with grpc_status', async () => {
      const text = await (await fetch(`${h.adminUrl}/metrics`)).text();
      expect(
        sample(text, 'response_total', { grpc_status: '0', classification: 'success' }),
      ).toBeGreaterThanOrEqual(2);
      expect(sample(text, 'response_total', { grpc_status: '5', classification: 'failure' })).toBe(1);
    });
  });
});
