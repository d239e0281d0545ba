// The local control plane as proxies in network namespaces see it. `tsmesh up` serves plaintext
// gRPC on 127.0.0.1, which a namespace cannot reach; a proxy there dials the host's pod-network
// address instead and — the address not being loopback — speaks TLS, checking the server's name
// as Linkerd's proxies do (linkerd-identity.linkerd.serviceaccount.identity.linkerd.cluster.local
// …). The gateway listens on that host address only, presents a certificate for those names from
// the local issuer, and passes each connection on to the control plane's current loopback port
// (read from control-plane.json per connection, so a restarted control plane is found again).
import { generateKeyPairSync } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { connect, type AddressInfo, type Socket } from 'node:net';
import { join } from 'node:path';
import { createServer, type Server } from 'node:tls';
import { createIssuer, formatPrivateKey, issueServingCertificate } from '@tsmesh/core';
import type { Logger } from '@tsmesh/kube';
import { readControlPlaneInfo, type ControlPlaneInfo, type StatePaths } from './state-dir.js';

type Service = 'identity' | 'destination' | 'policy';

export interface ControlPlaneGateway {
  /** host:port per service the control plane serves, on the given host address. */
  readonly addrs: Readonly<Partial<Record<Service, string>>>;
  close(): Promise<void>;
}

/** Listens on `host` (port 0) for each control-plane service in `info`. */
export async function startControlPlaneGateway(options: {
  readonly paths: StatePaths;
  readonly info: ControlPlaneInfo;
  readonly host: string;
  readonly logger: Logger;
}): Promise<ControlPlaneGateway> {
  const { paths, info, host, logger } = options;
  const issuer = createIssuer({
    certificate: readFileSync(join(paths.issuerDir, 'tls.crt'), 'utf8'),
    privateKey: readFileSync(join(paths.issuerDir, 'tls.key'), 'utf8'),
    where: paths.issuerDir,
  });
  const names = [info.identity.name, info.destination?.name, info.policy?.name].filter(
    (n): n is string => n !== undefined,
  );
  const { privateKey, publicKey } = generateKeyPairSync('ec', { namedCurve: 'P-256' });
  const certificate = issueServingCertificate({ issuer, publicKey, dnsNames: [...new Set(names)] });
  const cert = `${certificate.pem}${issuer.certificate.pem}`;
  const key = formatPrivateKey(privateKey);

  const servers: Server[] = [];
  const open = new Set<Socket>();
  const addrs: Partial<Record<Service, string>> = {};
  const upstreamPort = (service: Service): number | undefined => {
    let current: ControlPlaneInfo = info;
    try {
      current = readControlPlaneInfo(paths);
    } catch {
      // keep the addresses this run started with
    }
    const addr = (service === 'identity' ? current.identity : current[service])?.addr;
    const port = Number(addr?.slice(addr.lastIndexOf(':') + 1));
    return Number.isInteger(port) && port > 0 ? port : undefined;
  };
  try {
    for (const service of ['identity', 'destination', 'policy'] as const) {
      if (service !== 'identity' && !info[service]) continue;
      const server = createServer({ cert, key, ALPNProtocols: ['h2'] }, (tlsSocket) => {
        const port = upstreamPort(service);
        if (port === undefined) {
          tlsSocket.destroy();
          return;
        }
        const upstream = connect({ host: '127.0.0.1', port });
        open.add(tlsSocket);
        open.add(upstream);
        const forget = () => {
          open.delete(tlsSocket);
          open.delete(upstream);
        };
        tlsSocket.once('close', forget);
        upstream.once('close', forget);
        const fail = () => {
          tlsSocket.destroy();
          upstream.destroy();
        };
        tlsSocket.on('error', fail);
        upstream.on('error', fail);
        tlsSocket.pipe(upstream).pipe(tlsSocket);
      });
      server.on('tlsClientError', (err) =>
        logger.debug({ service, err: err.message }, 'control-plane gateway: TLS'),
      );
      await new Promise<void>((resolve, reject) => {
        server.once('error', reject);
        server.listen({ host, port: 0 }, () => {
          server.off('error', reject);
          resolve();
        });
      });
      servers.push(server);
      addrs[service] = `${host}:${(server.address() as AddressInfo).port}`;
    }
  } catch (err) {
    for (const server of servers) server.close();
    throw err;
  }
  return {
    addrs,
    async close() {
      await Promise.all(
        servers.map(
          (server) =>
            new Promise<void>((resolve) => {
              server.close(() => resolve());
              // Open streams (watches) end with the gateway.
              for (const socket of open) socket.destroy();
            }),
        ),
      );
    },
  };
}
