// A tap client as viz's tap service is one: grpc-js over mutual TLS with a given certificate, to a
// proxy's control port whose identity is `proxyId`.
import * as grpc from '@grpc/grpc-js';
import { TapClient } from '@tsmesh/core';
import type { MeshCertificate } from '../../../src/tls/index.js';

export function tapClient(
  address: string,
  trustAnchorsPem: string,
  cert: MeshCertificate,
  proxyId: string,
): TapClient {
  return new TapClient(
    address,
    grpc.credentials.createSsl(
      Buffer.from(trustAnchorsPem),
      Buffer.from(cert.privateKeyPem),
      Buffer.from(cert.certificateChainPem),
    ),
    { 'grpc.ssl_target_name_override': proxyId, 'grpc.default_authority': proxyId },
  );
}

/** The address of a proxy's tap server (its control port); throws when it runs none. */
export function tapAddressOf(proxy: {
  readonly tapServer: { readonly address: { readonly port: number } } | undefined;
}): string {
  const address = proxy.tapServer?.address;
  if (!address)
    throw new Error('the proxy runs no tap server (set the control listen address and tap service name)');
  return `127.0.0.1:${address.port}`;
}

/** Waits until the proxy reports an open tap (the Observe call registered). */
export async function untilTapActive(tap: { readonly active: boolean }, timeoutMs = 10_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!tap.active) {
    if (Date.now() > deadline)
      throw new Error(`the tap did not register with the proxy within ${timeoutMs}ms`);
    await new Promise((r) => setTimeout(r, 20));
  }
}
