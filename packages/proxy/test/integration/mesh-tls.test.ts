// Two proxies with mutual TLS between them: client → outbound proxy A → mTLS → inbound proxy B →
// app. B records A's identity and passes it as l5d-client-id; A verifies B's identity. openssl
// s_client shows B presenting its workload certificate. Certificates are issued by openssl.
import { execFile } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { TsmeshProxyEnv } from '../../src/config/index.js';
import { createStaticCertificateSource } from '../../src/tls/index.js';
import { createTestCa } from '../../src/tls/test-certs.test-support.js';
import { closeServer, forwardTo, listenHttp, sample, startHarness, type Harness } from './proxy-harness.js';

const run = promisify(execFile);
const A_ID = 'vote-bot.emojivoto.serviceaccount.identity.linkerd.cluster.local';
const B_ID = 'web.emojivoto.serviceaccount.identity.linkerd.cluster.local';

describe('mesh mTLS between two proxies', () => {
  const ca = createTestCa();
  const dir = mkdtempSync(join(tmpdir(), 'tsmesh-proxy-mtls-'));
  const aCert = ca.issue(A_ID);
  const bCert = ca.issue(B_ID);
  let app: Awaited<ReturnType<typeof listenHttp>>;
  let a: Harness;
  let b: Harness;

  beforeAll(async () => {
    app = await listenHttp((req, res) => res.end(`client-id=${String(req.headers['l5d-client-id'])}\n`));
    b = await startHarness(forwardTo(app.port), {
      certificates: createStaticCertificateSource(bCert),
      trustAnchorsPem: ca.trustAnchorsPem,
    });
    a = await startHarness(
      { [TsmeshProxyEnv.OutboundForwardAddr]: `127.0.0.1:${b.inboundPort}` },
      {
        certificates: createStaticCertificateSource(aCert),
        trustAnchorsPem: ca.trustAnchorsPem,
        identityFor: (t) => (t.port === b.inboundPort ? B_ID : undefined),
      },
    );
  });
  afterAll(async () => {
    await a.close();
    await b.close();
    await closeServer(app.server);
    ca.dispose();
    rmSync(dir, { recursive: true, force: true });
  });

  it('carries HTTP over mTLS and hands the client identity to the app', async () => {
    const { stdout } = await run('curl', ['-sS', '--max-time', '10', `http://127.0.0.1:${a.outboundPort}/x`]);
    expect(stdout).toBe(`client-id=${A_ID}\n`);
  });

  it('labels both sides: tls="true" with client_id inbound and server_id outbound', async () => {
    const bText = await (await fetch(`${b.adminUrl}/metrics`)).text();
    expect(
      sample(bText, 'response_total', { direction: 'inbound', tls: 'true', client_id: A_ID }),
    ).toBeGreaterThanOrEqual(1);
    const aText = await (await fetch(`${a.adminUrl}/metrics`)).text();
    expect(
      sample(aText, 'request_total', { direction: 'outbound', tls: 'true', server_id: B_ID }),
    ).toBeGreaterThanOrEqual(1);
  });

  it('openssl s_client sees B present its workload certificate, verified against the anchors', async () => {
    writeFileSync(join(dir, 'ca.crt'), ca.trustAnchorsPem);
    writeFileSync(join(dir, 'a.crt'), aCert.certificateChainPem);
    writeFileSync(join(dir, 'a.key'), aCert.privateKeyPem);
    const { stdout } = await run(
      'sh',
      [
        '-c',
        `echo | openssl s_client -connect 127.0.0.1:${b.inboundPort} -servername ${B_ID} -verify_hostname ${B_ID} ` +
          `-CAfile ca.crt -cert a.crt -key a.key 2>/dev/null | openssl x509 -noout -ext subjectAltName; ` +
          `echo | openssl s_client -connect 127.0.0.1:${b.inboundPort} -servername ${B_ID} -verify_hostname ${B_ID} ` +
          `-CAfile ca.crt -cert a.crt -key a.key 2>&1 | grep -E 'Verify return code|Verification'`,
      ],
      { cwd: dir, timeout: 15_000 },
    );
    expect(stdout).toContain(`DNS:${B_ID}`);
    expect(stdout).toMatch(/Verify return code: 0 \(ok\)/);
  });

  it('a plaintext client still reaches the app (no_tls_from_remote fallback)', async () => {
    const { stdout } = await run('curl', [
      '-sS',
      '--max-time',
      '10',
      `http://127.0.0.1:${b.inboundPort}/plain`,
    ]);
    expect(stdout).toBe('client-id=undefined\n');
  });
});

describe('readiness waits for a certificate', () => {
  it('/ready is 503 until the certificate source has one', async () => {
    const ca = createTestCa();
    const h = await startHarness(
      {},
      {
        certificates: { current: () => undefined, subscribe: () => () => undefined },
        trustAnchorsPem: ca.trustAnchorsPem,
      },
    );
    try {
      const r = await fetch(`${h.adminUrl}/ready`);
      expect(`${r.status} ${await r.text()}`).toBe('503 not ready\n');
    } finally {
      await h.close();
      ca.dispose();
    }
  });
});
