// Transparent outbound with mutual TLS, across two network namespaces and the real binaries
// (root only): in "pod" the app dials the peer's address 198.18.N.2:9090; proxy-init's rules send
// the connection to the pod proxy's outbound port, which reads SO_ORIGINAL_DST and opens mutual
// TLS to the peer (meshed, per TSMESH_PROXY_OUTBOUND_PEER_IDENTITIES); in "peer" PREROUTING sends
// it to the peer proxy's inbound, which terminates TLS, records the client identity and forwards
// to the app on 127.0.0.1:9090. Both proxies certify against tsmesh-identity (--tls) at the peer's
// non-loopback address, so the identity client runs over TLS checking the service's name.
import { generateKeyPairSync, sign, type KeyObject } from 'node:crypto';
import { spawnSync } from 'node:child_process';
import { chmodSync, existsSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { createIntermediateCertificate, createRootCertificate, formatPrivateKey } from '@tsmesh/core';
import { afterAll, describe, expect, it } from 'vitest';
import { createNetnsLab, hasBinary, netnsUnavailableReason, waitFor, type Netns } from './netns-lab.js';

const pkgBin = (pkg: string, name: string) =>
  fileURLToPath(new URL(`../../../${pkg}/bin/${name}.js`, import.meta.url));
const distOf = (pkg: string) => fileURLToPath(new URL(`../../../${pkg}/dist/main.js`, import.meta.url));
const built = existsSync(distOf('proxy')) && existsSync(distOf('identity'));
const unavailable =
  netnsUnavailableReason() ?? (hasBinary('iptables-nft') ? undefined : 'needs iptables-nft');
const net = `198.18.${10 + (process.pid % 80)}`;
const CLIENT_ID = 'vote-bot.emojivoto.serviceaccount.identity.linkerd.cluster.local';
const SERVER_ID = 'web.emojivoto.serviceaccount.identity.linkerd.cluster.local';
const IDENTITY_SVC = 'linkerd-identity.linkerd.serviceaccount.identity.linkerd.cluster.local';

/** A local-mode ServiceAccount token (ES256 JWT) as tsmesh-identity --local-token-key checks it. */
function mintToken(key: KeyObject, namespace: string, serviceAccount: string): string {
  const b64 = (v: unknown) => Buffer.from(JSON.stringify(v)).toString('base64url');
  const iat = Math.floor(Date.now() / 1000);
  const input = `${b64({ alg: 'ES256', typ: 'JWT' })}.${b64({
    iss: 'tsmesh-local',
    sub: `system:serviceaccount:${namespace}:${serviceAccount}`,
    aud: ['identity.l5d.io'],
    iat,
    nbf: iat,
    exp: iat + 3600,
    'kubernetes.io': { namespace, serviceaccount: { name: serviceAccount } },
  })}`;
  return `${input}.${sign('sha256', Buffer.from(input), { key, dsaEncoding: 'ieee-p1363' }).toString('base64url')}`;
}

describe.skipIf(unavailable !== undefined || !built)(
  `transparent outbound with mTLS between two namespaces (${unavailable ?? (built ? 'root, own netns' : 'needs built proxy and identity dist')})`,
  () => {
    const lab = createNetnsLab();
    let dir = '';
    afterAll(async () => {
      await lab.dispose();
      if (dir !== '') rmSync(dir, { recursive: true, force: true });
    });

    it("the app's connection to the peer goes through both proxies with mutual TLS", async () => {
      dir = mkdtempSync(join(tmpdir(), 'tsmesh-meshed-'));
      chmodSync(dir, 0o755); // the proxies run as uid 2102 and read the token files
      const root = createRootCertificate();
      const issuer = createIntermediateCertificate({ issuer: root });
      mkdirSync(join(dir, 'issuer'));
      writeFileSync(join(dir, 'issuer', 'crt.pem'), issuer.certificate.pem);
      writeFileSync(join(dir, 'issuer', 'key.pem'), formatPrivateKey(issuer.privateKey));
      writeFileSync(join(dir, 'issuer', 'ca.crt'), root.certificate.pem);
      const tokenKey = generateKeyPairSync('ec', { namedCurve: 'P-256' });
      writeFileSync(join(dir, 'token-key.pem'), tokenKey.publicKey.export({ type: 'spki', format: 'pem' }));
      writeFileSync(join(dir, 'client-token'), mintToken(tokenKey.privateKey, 'emojivoto', 'vote-bot'), {
        mode: 0o644,
      });
      writeFileSync(join(dir, 'server-token'), mintToken(tokenKey.privateKey, 'emojivoto', 'web'), {
        mode: 0o644,
      });

      const pod = lab.add('m');
      const peer = lab.add('n');
      lab.link(pod, `${net}.1/24`, peer, `${net}.2/24`);
      const init = (ns: Netns, ignore: string) =>
        spawnSync(
          process.execPath,
          [
            pkgBin('proxy', 'tsmesh-proxy'),
            'init',
            '--netns',
            ns.path,
            '--iptables-mode',
            'nft',
            '--inbound-ports-to-ignore',
            ignore,
          ],
          { encoding: 'utf8' },
        );
      expect(init(pod, '4190,4191').status).toBe(0);
      // The identity service lives in the peer namespace on its own port, not redirected.
      expect(init(peer, '4190,4191,8080').status).toBe(0);

      const node = process.execPath;
      const identity = lab.start(peer, node, [
        pkgBin('identity', 'tsmesh-identity'),
        '--addr',
        `${net}.2:8080`,
        '--admin-addr',
        '127.0.0.1:9990',
        '--issuer-dir',
        join(dir, 'issuer'),
        '--local-token-key',
        join(dir, 'token-key.pem'),
        '--tls',
      ]);
      lab.start(peer, node, [
        '-e',
        `require('http').createServer((q,s)=>s.end('peer app saw '+q.url+' client-id='+q.headers['l5d-client-id'])).listen(9090,'127.0.0.1')`,
      ]);
      const proxyEnv = (localName: string, token: string): NodeJS.ProcessEnv => ({
        ...process.env,
        LINKERD2_PROXY_INBOUND_LISTEN_ADDR: '0.0.0.0:4143',
        LINKERD2_PROXY_OUTBOUND_LISTEN_ADDR: '127.0.0.1:4140',
        LINKERD2_PROXY_ADMIN_LISTEN_ADDR: '0.0.0.0:4191',
        LINKERD2_PROXY_SHUTDOWN_GRACE_PERIOD: '100ms',
        LINKERD2_PROXY_IDENTITY_SVC_ADDR: `${net}.2:8080`,
        LINKERD2_PROXY_IDENTITY_SVC_NAME: IDENTITY_SVC,
        LINKERD2_PROXY_IDENTITY_TOKEN_FILE: join(dir, token),
        LINKERD2_PROXY_IDENTITY_LOCAL_NAME: localName,
        LINKERD2_PROXY_IDENTITY_TRUST_ANCHORS: root.certificate.pem,
        TSMESH_PROXY_OUTBOUND_PEER_IDENTITIES: `${net}.2:9090=${SERVER_ID}`,
      });
      const podProxy = lab.start(pod, node, [pkgBin('proxy', 'tsmesh-proxy')], {
        uid: 2102,
        env: proxyEnv(CLIENT_ID, 'client-token'),
      });
      const peerProxy = lab.start(peer, node, [pkgBin('proxy', 'tsmesh-proxy')], {
        uid: 2102,
        env: proxyEnv(SERVER_ID, 'server-token'),
      });
      const curl = (ns: Netns, url: string) => lab.run(ns, 'curl', ['-sS', '--max-time', '5', url]);
      const ready = (ns: Netns, what: string, log: () => string) =>
        waitFor(`${what} ready`, 20_000, () =>
          curl(ns, 'http://127.0.0.1:4191/ready').stdout.trim() === 'ready' ? true : undefined,
        ).catch((err: Error) => {
          throw new Error(`${err.message}\n${log()}\nidentity:\n${identity.output()}`);
        });
      await ready(pod, 'pod proxy', podProxy.output);
      await ready(peer, 'peer proxy', peerProxy.output);
      expect(podProxy.output()).toContain(`from ${net}.2:8080 over TLS`);

      expect(curl(pod, `http://${net}.2:9090/hi`).stdout).toBe(`peer app saw /hi client-id=${CLIENT_ID}`);

      const podMetrics = curl(pod, 'http://127.0.0.1:4191/metrics').stdout;
      expect(podMetrics).toMatch(
        new RegExp(
          `request_total\\{[^}]*direction="outbound"[^}]*target_addr="${net}.2:9090"[^}]*tls="true"[^}]*server_id="${SERVER_ID}"`,
        ),
      );
      const peerMetrics = curl(peer, 'http://127.0.0.1:4191/metrics').stdout;
      expect(peerMetrics).toMatch(
        new RegExp(`request_total\\{[^}]*direction="inbound"[^}]*tls="true"[^}]*client_id="${CLIENT_ID}"`),
      );
      expect(peerMetrics).toMatch(/^identity_cert_expiration_timestamp_seconds \d+/m);
    });
  },
);
