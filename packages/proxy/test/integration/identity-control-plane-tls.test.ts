// controlPlaneChannelCredentials for the destination and policy clients: mutual TLS (the workload
// certificate is presented to a server that requires one), the server name checked, loopback in
// plaintext, and a clear configuration error when TLS is needed without trust anchors.
import { Server, status, type ServiceError } from '@grpc/grpc-js';
import {
  addIdentityService,
  createIntermediateCertificate,
  createRootCertificate,
  IdentityClient,
  MeshError,
} from '@tsmesh/core';
import { expect, onTestFinished, test } from 'vitest';
import { createEnvSource, readProxyConfig } from '../../src/config/index.js';
import {
  CONTROL_PLANE_RECONNECT,
  controlPlaneChannelCredentials,
  createStaticCertificateSource,
} from '../../src/tls/index.js';
import { issueIdentity, servingCredentials } from './control-plane-pki.js';

const DST_NAME = 'linkerd-destination.linkerd.serviceaccount.identity.linkerd.cluster.local';
const WORKLOAD = 'web.emojivoto.serviceaccount.identity.linkerd.cluster.local';

/** A gRPC server (Identity's Certify stands in for any control-plane API) that requires client certificates. */
async function mtlsServer(credentials: ReturnType<typeof servingCredentials>) {
  const server = new Server();
  addIdentityService(server, {
    certify: () => ({ leafCertificate: Buffer.from([1]), intermediateCertificates: [] }),
  });
  const port = await new Promise<number>((resolve, reject) =>
    server.bindAsync('127.0.0.1:0', credentials, (err, p) => (err ? reject(err) : resolve(p))),
  );
  onTestFinished(() => new Promise<void>((resolve) => server.tryShutdown(() => resolve())));
  return port;
}

const call = (client: IdentityClient) =>
  new Promise<ServiceError | undefined>((resolve) =>
    client.certify({ identity: 'x' }, { deadline: Date.now() + 3000 }, (err) => resolve(err ?? undefined)),
  );

const configFor = (addr: string, anchors?: string) =>
  readProxyConfig(
    createEnvSource({
      LINKERD2_PROXY_DESTINATION_SVC_ADDR: addr,
      LINKERD2_PROXY_DESTINATION_SVC_NAME: DST_NAME,
      ...(anchors ? { LINKERD2_PROXY_IDENTITY_TRUST_ANCHORS: anchors } : {}),
    }),
  );

test('destination over mutual TLS: the workload certificate is presented, the server name checked', async () => {
  const root = createRootCertificate();
  const issuer = createIntermediateCertificate({ issuer: root });
  const anchors = root.certificate.pem;
  const port = await mtlsServer(servingCredentials(issuer, DST_NAME, anchors));
  // Built as for a remote address; the test dials the same server on loopback.
  const channel = controlPlaneChannelCredentials(
    configFor('linkerd-dst-headless.linkerd.svc.cluster.local.:8086', anchors),
    'destination',
    createStaticCertificateSource(issueIdentity(issuer, WORKLOAD)),
  )!;
  expect(channel).toMatchObject({
    tls: true,
    serverName: DST_NAME,
    address: 'linkerd-dst-headless.linkerd.svc.cluster.local.:8086',
  });
  // Back within 10 s of the control plane (not gRPC's 120 s), names re-resolved every 5 s at most.
  expect(channel.channelOptions).toEqual({
    ...CONTROL_PLANE_RECONNECT,
    'grpc.ssl_target_name_override': DST_NAME,
  });
  expect(CONTROL_PLANE_RECONNECT['grpc.max_reconnect_backoff_ms']).toBe(10_000);
  const client = new IdentityClient(`127.0.0.1:${port}`, channel.credentials, channel.channelOptions);
  onTestFinished(() => client.close());
  expect(await call(client)).toBeUndefined();

  // Without a workload certificate the server refuses the handshake.
  const anonymous = controlPlaneChannelCredentials(configFor('198.18.0.9:8086', anchors), 'destination')!;
  const refused = new IdentityClient(`127.0.0.1:${port}`, anonymous.credentials, anonymous.channelOptions);
  onTestFinished(() => refused.close());
  expect((await call(refused))?.code).toBe(status.UNAVAILABLE);
});

test('loopback is plaintext; TLS without trust anchors is a configuration error naming the variable', () => {
  expect(controlPlaneChannelCredentials(configFor('127.0.0.1:8086'), 'destination')).toMatchObject({
    tls: false,
    channelOptions: CONTROL_PLANE_RECONNECT,
  });
  expect(controlPlaneChannelCredentials(configFor('127.0.0.1:8086'), 'policy')).toBeUndefined();
  let error: unknown;
  try {
    controlPlaneChannelCredentials(configFor('198.18.0.9:8086'), 'destination');
  } catch (err) {
    error = err;
  }
  expect(MeshError.is(error) && error.describe()).toMatch(/LINKERD2_PROXY_IDENTITY_TRUST_ANCHORS/);
});
