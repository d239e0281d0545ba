// The service definitions against a real @grpc/grpc-js server and client on 127.0.0.1 (port 0):
// unary Identity.Certify, server-streaming Destination.Get, error mapping, cancellation, and
// garbage request bytes sent through a raw client, which must get INVALID_ARGUMENT while the
// server keeps serving.
import * as grpc from '@grpc/grpc-js';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { MeshError, MeshErrorCode } from '../errors/index.js';
import { addDestinationService, DestinationClient, DestinationService } from './destination-service.js';
import type { CallContext } from './grpc-server.js';
import { addIdentityService, IdentityClient } from './identity-service.js';
import { installMessageConversions } from './message-conversions.js';
import { destination, identity } from './messages.js';
import { addOutboundPoliciesService, OutboundPoliciesClient } from './outbound-service.js';

installMessageConversions();

const WEB_ID = 'web.emojivoto.serviceaccount.identity.linkerd.cluster.local';
const LEAF = Buffer.from([0x30, 0x82, 0x01, 0x02]);
const INTERMEDIATE = Buffer.from([0x30, 0x82, 0x03, 0x04]);
const VALID_UNTIL_S = 1_767_312_000;
const IP1 = 0xc6120001; // 198.18.0.1

const certifyRequests: identity.CertifyRequest[] = [];
let watchAborted: Promise<unknown> | undefined;
let server: grpc.Server;
let address: string;
const clients: grpc.Client[] = [];

beforeAll(async () => {
  server = new grpc.Server();
  addIdentityService(server, {
    async certify(request) {
      certifyRequests.push(request);
      if (request.identity !== WEB_ID) {
        throw new MeshError(MeshErrorCode.PermissionDenied, `token does not grant ${request.identity}`);
      }
      return {
        leafCertificate: LEAF,
        intermediateCertificates: [INTERMEDIATE],
        validUntil: { seconds: VALID_UNTIL_S },
      };
    },
  });
  addDestinationService(server, {
    async *get(request, context) {
      if (request.path === 'missing.emojivoto.svc.cluster.local:80') {
        yield { noEndpoints: { exists: false } };
        throw new MeshError(MeshErrorCode.NotFound, `no service ${request.path}`);
      }
      yield {
        add: {
          addrs: [
            { addr: { ip: { ipv4: IP1 }, port: 8080 }, weight: 10_000, metricLabels: { pod: 'web-1' } },
          ],
          metricLabels: { service: 'web-svc' },
        },
      };
      if (request.path === 'watch.emojivoto.svc.cluster.local:80') {
        // A watch: stays open until the client goes away.
        watchAborted = aborted(context);
        await watchAborted;
        return;
      }
      yield { remove: { addrs: [{ ip: { ipv4: IP1 }, port: 8080 }] } };
    },
  });
  addOutboundPoliciesService(server, {
    get: (spec) => ({ metadata: { default: `for ${spec.authority}` } }),
  });
  const port = await new Promise<number>((resolve, reject) =>
    server.bindAsync('127.0.0.1:0', grpc.ServerCredentials.createInsecure(), (err, bound) =>
      err ? reject(err) : resolve(bound),
    ),
  );
  address = `127.0.0.1:${port}`;
});

afterAll(async () => {
  for (const client of clients) client.close();
  await new Promise<void>((resolve) => server.tryShutdown(() => resolve()));
});

function track<C extends grpc.Client>(client: C): C {
  clients.push(client);
  return client;
}

function aborted(context: CallContext): Promise<unknown> {
  return new Promise((resolve) => {
    if (context.signal.aborted) resolve(context.signal.reason);
    context.signal.addEventListener('abort', () => resolve(context.signal.reason), { once: true });
  });
}

function certify(client: IdentityClient, request: identity.CertifyRequest.$Properties) {
  return new Promise<identity.CertifyResponse>((resolve, reject) =>
    client.certify(request, (err, response) => (err ? reject(err) : resolve(response!))),
  );
}

/** Read a server stream to its end; resolves with the messages and the final status or error. */
function collect<T>(call: grpc.ClientReadableStream<T>) {
  return new Promise<{ messages: T[]; error?: grpc.ServiceError }>((resolve) => {
    const messages: T[] = [];
    call.on('data', (message: T) => messages.push(message));
    call.on('error', (error: grpc.ServiceError) => resolve({ messages, error }));
    call.on('end', () => resolve({ messages }));
  });
}

/** A client that sends raw bytes, bypassing our serializers. */
const raw = (bytes: Buffer) => bytes;
const RawClient = grpc.makeGenericClientConstructor(
  {
    certify: {
      path: '/io.linkerd.proxy.identity.Identity/Certify',
      requestStream: false,
      responseStream: false,
      requestSerialize: raw,
      requestDeserialize: raw,
      responseSerialize: raw,
      responseDeserialize: raw,
    },
    get: {
      path: DestinationService.get.path,
      requestStream: false,
      responseStream: true,
      requestSerialize: raw,
      requestDeserialize: raw,
      responseSerialize: raw,
      responseDeserialize: raw,
    },
  },
  'Raw',
);
// identity = "A" claimed as 5 bytes long, with 1 byte present.
const GARBAGE = Buffer.from([0x0a, 0x05, 0x41]);

describe('Identity.Certify (unary)', () => {
  it('answers a typed request with a typed response', async () => {
    const client = track(new IdentityClient(address, grpc.credentials.createInsecure()));
    const response = await certify(client, {
      identity: WEB_ID,
      token: Buffer.from('service-account-token'),
      certificateSigningRequest: Buffer.from([0x30, 0x82]),
    });
    expect(Buffer.from(response.leafCertificate)).toEqual(LEAF);
    expect(response.intermediateCertificates.map((c) => Buffer.from(c))).toEqual([INTERMEDIATE]);
    expect(Number(response.validUntil?.seconds)).toBe(VALID_UNTIL_S);

    const received = certifyRequests.at(-1)!;
    expect(received).toBeInstanceOf(identity.CertifyRequest);
    expect(received.identity).toBe(WEB_ID);
    expect(Buffer.from(received.token).toString()).toBe('service-account-token');
  });

  it('maps a MeshError from the handler to its gRPC status', async () => {
    const client = track(new IdentityClient(address, grpc.credentials.createInsecure()));
    const err = await certify(client, { identity: 'someone-else' }).catch((e: grpc.ServiceError) => e);
    expect(err).toMatchObject({
      code: grpc.status.PERMISSION_DENIED,
      details: 'token does not grant someone-else',
    });
  });

  it('answers garbage request bytes with INVALID_ARGUMENT and keeps serving', async () => {
    const rawClient = track(new RawClient(address, grpc.credentials.createInsecure()));
    const rawCertify = rawClient.certify as (
      request: Buffer,
      callback: (error: grpc.ServiceError | null) => void,
    ) => grpc.ClientUnaryCall;
    const err = await new Promise<grpc.ServiceError | null>((resolve) =>
      rawCertify.call(rawClient, GARBAGE, resolve),
    );
    expect(err?.code).toBe(grpc.status.INVALID_ARGUMENT);
    expect(err?.details).toContain('/io.linkerd.proxy.identity.Identity/Certify request');
    expect(err?.details).toContain('cannot decode io.linkerd.proxy.identity.CertifyRequest (3 bytes)');

    const client = track(new IdentityClient(address, grpc.credentials.createInsecure()));
    const response = await certify(client, { identity: WEB_ID });
    expect(Buffer.from(response.leafCertificate)).toEqual(LEAF);
  });
});

describe('Destination.Get (server streaming)', () => {
  it('streams typed updates and ends with OK', async () => {
    const client = track(new DestinationClient(address, grpc.credentials.createInsecure()));
    const { messages, error } = await collect(
      client.get({
        scheme: 'http:',
        path: 'web-svc.emojivoto.svc.cluster.local:80',
        contextToken: '{"ns":"emojivoto"}',
      }),
    );
    expect(error).toBeUndefined();
    expect(messages.map((m) => m.update)).toEqual(['add', 'remove']);
    expect(messages[0]).toBeInstanceOf(destination.Update);
    expect(destination.Update.toObject(messages[0]!)).toEqual({
      add: {
        addrs: [{ addr: { ip: { ipv4: IP1 }, port: 8080 }, weight: 10_000, metricLabels: { pod: 'web-1' } }],
        metricLabels: { service: 'web-svc' },
      },
    });
  });

  it('sends the messages before a handler error, then the error status', async () => {
    const client = track(new DestinationClient(address, grpc.credentials.createInsecure()));
    const { messages, error } = await collect(client.get({ path: 'missing.emojivoto.svc.cluster.local:80' }));
    expect(messages.map((m) => m.noEndpoints?.exists)).toEqual([false]);
    expect(error).toMatchObject({
      code: grpc.status.NOT_FOUND,
      details: 'no service missing.emojivoto.svc.cluster.local:80',
    });
  });

  it('aborts the handler signal when the client cancels a watch', async () => {
    const client = track(new DestinationClient(address, grpc.credentials.createInsecure()));
    const call = client.get({ path: 'watch.emojivoto.svc.cluster.local:80' });
    await new Promise<void>((resolve) => call.once('data', () => resolve()));
    call.on('error', () => {}); // the CANCELLED status that follows cancel()
    call.cancel();
    const reason = await watchAborted;
    expect(reason).toBeInstanceOf(MeshError);
    expect((reason as MeshError).code).toBe(MeshErrorCode.Aborted);
  });

  it('answers garbage request bytes with INVALID_ARGUMENT and keeps serving', async () => {
    const rawClient = track(new RawClient(address, grpc.credentials.createInsecure()));
    const rawGet = rawClient.get as (request: Buffer) => grpc.ClientReadableStream<Buffer>;
    const { messages, error } = await collect(rawGet.call(rawClient, GARBAGE));
    expect(messages).toEqual([]);
    expect(error?.code).toBe(grpc.status.INVALID_ARGUMENT);
    expect(error?.details).toContain('cannot decode io.linkerd.proxy.destination.GetDestination');

    const client = track(new DestinationClient(address, grpc.credentials.createInsecure()));
    const after = await collect(client.get({ path: 'web-svc.emojivoto.svc.cluster.local:80' }));
    expect(after.error).toBeUndefined();
    expect(after.messages).toHaveLength(2);
  });

  it('answers UNIMPLEMENTED for a method without a handler', async () => {
    const client = track(new DestinationClient(address, grpc.credentials.createInsecure()));
    const { error } = await collect(client.getProfile({ path: 'web-svc.emojivoto.svc.cluster.local:80' }));
    expect(error?.code).toBe(grpc.status.UNIMPLEMENTED);
  });
});

describe('OutboundPolicies.Get (unary, synchronous handler)', () => {
  it('accepts a plain return value', async () => {
    const client = track(new OutboundPoliciesClient(address, grpc.credentials.createInsecure()));
    const policy = await new Promise((resolve, reject) =>
      client.get({ authority: 'web-svc.emojivoto.svc.cluster.local:80' }, (err, res) =>
        err ? reject(err) : resolve(res),
      ),
    );
    expect(policy).toMatchObject({ metadata: { default: 'for web-svc.emojivoto.svc.cluster.local:80' } });
  });
});
