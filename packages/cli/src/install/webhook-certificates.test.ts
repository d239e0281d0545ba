// The webhook serving certificates verify with openssl as TLS server certificates for the Service
// name, and a real TLS handshake with that name succeeds against the CA bundle.
import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:https';
import { connect } from 'node:tls';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { parseCertificate } from '@tsmesh/core';
import { createWebhookCertificate } from './webhook-certificates.js';

const dir = mkdtempSync(join(tmpdir(), 'tsmesh-webhook-cert-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe('createWebhookCertificate', () => {
  const cert = createWebhookCertificate('linkerd-proxy-injector', 'linkerd');

  it('is a server certificate for <service>.<namespace>.svc that openssl verifies against the CA', () => {
    writeFileSync(join(dir, 'tls.crt'), cert.crtPEM);
    writeFileSync(join(dir, 'ca.crt'), cert.caBundle);
    const verify = execFileSync(
      'openssl',
      [
        'verify',
        '-CAfile',
        join(dir, 'ca.crt'),
        '-purpose',
        'sslserver',
        '-verify_hostname',
        'linkerd-proxy-injector.linkerd.svc',
        join(dir, 'tls.crt'),
      ],
      { encoding: 'utf8' },
    );
    expect(verify).toMatch(/OK/);
    const parsed = parseCertificate(cert.crtPEM);
    expect(parsed.subjectCommonName).toBe('linkerd-proxy-injector.linkerd.svc');
    expect(parsed.notAfter.getTime() - Date.now()).toBeGreaterThan(360 * 86_400_000);
  });

  it('serves TLS that a client checking the Service name accepts', async () => {
    const server = createServer({ cert: cert.crtPEM, key: cert.keyPEM }, (_req, res) => res.end('ok'));
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const { port } = server.address() as { port: number };
    try {
      const authorized = await new Promise<boolean>((resolve, reject) => {
        const socket = connect(
          { host: '127.0.0.1', port, ca: cert.caBundle, servername: 'linkerd-proxy-injector.linkerd.svc' },
          () => {
            resolve(socket.authorized);
            socket.end();
          },
        );
        socket.on('error', reject);
      });
      expect(authorized).toBe(true);
    } finally {
      await new Promise((resolve) => server.close(resolve));
    }
  });
});
