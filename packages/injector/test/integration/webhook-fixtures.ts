// What the webhook integration tests share: a CA with a serving certificate for 127.0.0.1, and a
// POST of a request body to the webhook trusting that CA.
import { readFile } from 'node:fs/promises';
import { request } from 'node:https';
import { createCertificateAuthority, issueCertificate } from '@tsmesh/testenv';

export async function createServingCertificate(dir: string) {
  const ca = await createCertificateAuthority({ dir, commonName: 'injector-ca' });
  const serving = await issueCertificate({
    ca,
    dir,
    name: 'serving',
    commonName: 'linkerd-proxy-injector',
    ipAddresses: ['127.0.0.1'],
    usage: 'server',
  });
  return { ca, serving, caPem: await readFile(ca.certPath) };
}

export function postToWebhook(
  port: number,
  body: string,
  ca: Buffer,
): Promise<{ status: number; body: string }> {
  return new Promise((resolve, reject) => {
    const req = request(
      {
        host: '127.0.0.1',
        port,
        path: '/',
        method: 'POST',
        ca,
        agent: false,
        headers: { 'content-type': 'application/json' },
      },
      (res) => {
        let text = '';
        res.setEncoding('utf8');
        res.on('data', (c: string) => (text += c));
        res.on('end', () => resolve({ status: res.statusCode!, body: text }));
      },
    );
    req.on('error', reject);
    req.end(body);
  });
}
