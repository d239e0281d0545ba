// The control-plane gateway of transparent mode, without root: TLS with the Linkerd names of the
// control plane (from the local issuer, verified against the trust anchor), ALPN h2, bytes passed
// to the loopback port control-plane.json names — re-read for each connection.
import { mkdtempSync, rmSync } from 'node:fs';
import { createServer, type AddressInfo, type Server } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { connect } from 'node:tls';
import { afterEach, describe, expect, it } from 'vitest';
import { startControlPlaneGateway } from './control-plane-gateway.js';
import {
  CONTROL_PLANE_NAMESPACE,
  ensureTrustMaterial,
  statePaths,
  TRUST_DOMAIN,
  writeControlPlaneInfo,
  type ControlPlaneInfo,
} from './state-dir.js';

const silent = { debug() {}, info() {}, warn() {}, error() {} };
const nameOf = (sa: string) =>
  `${sa}.${CONTROL_PLANE_NAMESPACE}.serviceaccount.identity.${CONTROL_PLANE_NAMESPACE}.${TRUST_DOMAIN}`;

/** A plaintext upstream answering `<tag>:<what it got>`. */
async function upstream(tag: string): Promise<Server> {
  const server = createServer((s) => {
    s.on('error', () => {});
    s.setEncoding('utf8').on('data', (d: string) => s.write(`${tag}:${d}`));
  });
  await new Promise<void>((r) => server.listen({ host: '127.0.0.1', port: 0 }, r));
  return server;
}

const portOf = (s: Server) => (s.address() as AddressInfo).port;

function ask(
  addr: string,
  servername: string,
  ca: string,
): Promise<{ answer: string; alpn: string | false }> {
  const [host, port] = [addr.slice(0, addr.lastIndexOf(':')), Number(addr.slice(addr.lastIndexOf(':') + 1))];
  return new Promise((resolve, reject) => {
    const socket = connect({ host, port, servername, ca, ALPNProtocols: ['h2'] }, () => socket.write('ping'));
    socket.setEncoding('utf8').once('data', (d: string) => {
      resolve({ answer: d, alpn: socket.alpnProtocol ?? false });
      socket.destroy();
    });
    socket.once('error', reject);
  });
}

describe('control-plane gateway', () => {
  const cleanups: (() => Promise<void> | void)[] = [];
  afterEach(async () => {
    for (const c of cleanups.splice(0).reverse()) await c();
  });

  it('terminates TLS under the control-plane names and forwards to the current loopback port', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'tsmesh-gateway-'));
    cleanups.push(() => rmSync(dir, { recursive: true, force: true }));
    const paths = statePaths(dir);
    const { trustAnchorsPem } = ensureTrustMaterial(paths);
    const [identity, destination, restarted] = await Promise.all([
      upstream('identity'),
      upstream('destination'),
      upstream('restarted'),
    ]);
    for (const s of [identity, destination, restarted])
      cleanups.push(() => new Promise((r) => s.close(() => r())));
    const info: ControlPlaneInfo = {
      pid: process.pid,
      startedAt: new Date().toISOString(),
      manifestDir: dir,
      trustDomain: TRUST_DOMAIN,
      controlPlaneNamespace: CONTROL_PLANE_NAMESPACE,
      api: 'http://127.0.0.1:1',
      identity: { addr: `127.0.0.1:${portOf(identity)}`, name: nameOf('linkerd-identity') },
      destination: { addr: `127.0.0.1:${portOf(destination)}`, name: nameOf('linkerd-destination') },
    };
    writeControlPlaneInfo(paths, info);
    const gateway = await startControlPlaneGateway({ paths, info, host: '127.0.0.1', logger: silent });
    cleanups.push(() => gateway.close());
    expect(Object.keys(gateway.addrs).sort()).toEqual(['destination', 'identity']);

    expect(await ask(gateway.addrs.identity!, nameOf('linkerd-identity'), trustAnchorsPem)).toEqual({
      answer: 'identity:ping',
      alpn: 'h2',
    });
    expect(
      (await ask(gateway.addrs.destination!, nameOf('linkerd-destination'), trustAnchorsPem)).answer,
    ).toBe('destination:ping');
    // Any other name fails verification.
    await expect(ask(gateway.addrs.identity!, nameOf('someone-else'), trustAnchorsPem)).rejects.toThrow();

    // A control plane restarted on another port is found by the next connection.
    writeControlPlaneInfo(paths, {
      ...info,
      identity: { ...info.identity, addr: `127.0.0.1:${portOf(restarted)}` },
    });
    expect((await ask(gateway.addrs.identity!, nameOf('linkerd-identity'), trustAnchorsPem)).answer).toBe(
      'restarted:ping',
    );
  });
});
