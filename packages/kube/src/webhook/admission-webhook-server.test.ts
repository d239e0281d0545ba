import { copyFile, mkdtemp, readFile, rm } from 'node:fs/promises';
import { request } from 'node:https';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Registry } from 'prom-client';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createCertificateAuthority, issueCertificate, type CertificateAuthority } from '@tsmesh/testenv';
import { MeshError } from '@tsmesh/core';
import { allow, deny, jsonPointer, type AdmissionReview } from './admission-review.js';
import { createAdmissionWebhookServer, type AdmissionWebhookServer } from './admission-webhook-server.js';
import { loadCertificatePair } from './certificate-files.js';

let dir: string;
let ca: CertificateAuthority;
let otherCa: CertificateAuthority;

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'kube-webhook-'));
  ca = await createCertificateAuthority({ dir, name: 'ca', commonName: 'webhook-ca' });
  otherCa = await createCertificateAuthority({ dir, name: 'other-ca', commonName: 'other-ca' });
  await issueCertificate({
    ca,
    dir,
    name: 'serving',
    commonName: 'webhook',
    ipAddresses: ['127.0.0.1'],
    usage: 'server',
  });
  await issueCertificate({
    ca: otherCa,
    dir,
    name: 'rotated',
    commonName: 'webhook-2',
    ipAddresses: ['127.0.0.1'],
    usage: 'server',
  });
});

afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

interface Reply {
  status: number;
  body: string;
  json(): unknown;
}

async function post(
  port: number,
  path: string,
  body: string | Buffer,
  caPath: string,
  method = 'POST',
): Promise<Reply> {
  const caPem = await readFile(caPath);
  return new Promise((resolve, reject) => {
    const req = request(
      {
        host: '127.0.0.1',
        port,
        path,
        method,
        ca: caPem,
        headers: { 'content-type': 'application/json' },
        agent: false,
      },
      (res) => {
        let text = '';
        res.setEncoding('utf8');
        res.on('data', (c: string) => (text += c));
        res.on('end', () => resolve({ status: res.statusCode!, body: text, json: () => JSON.parse(text) }));
      },
    );
    req.on('error', reject);
    req.end(body);
  });
}

const review = (object: unknown, uid = 'uid-1'): string =>
  JSON.stringify({
    apiVersion: 'admission.k8s.io/v1',
    kind: 'AdmissionReview',
    request: {
      uid,
      kind: { group: '', version: 'v1', kind: 'Pod' },
      resource: { group: '', version: 'v1', resource: 'pods' },
      operation: 'CREATE',
      userInfo: { username: 'admin' },
      namespace: 'default',
      object,
    },
  });

describe('AdmissionWebhookServer', () => {
  let server: AdmissionWebhookServer;
  let port: number;
  const registry = new Registry();
  const certFile = () => join(dir, 'live.crt');
  const keyFile = () => join(dir, 'live.key');

  beforeAll(async () => {
    await copyFile(join(dir, 'serving.crt'), certFile());
    await copyFile(join(dir, 'serving.key'), keyFile());
    server = createAdmissionWebhookServer({
      certFile: certFile(),
      keyFile: keyFile(),
      maxBodyBytes: 64 * 1024,
      registry,
      certificatePollIntervalMs: 100,
      handlers: {
        '/mutate': (req) =>
          allow(
            [
              {
                op: 'add',
                path: jsonPointer('metadata', 'annotations', 'tsmesh.io/seen-by'),
                value: req.userInfo.username,
              },
            ],
            ['mutated'],
          ),
        '/validate': (req) =>
          (req.object as { metadata?: { name?: string } }).metadata?.name === 'bad'
            ? deny('pods named bad are not allowed', 422)
            : allow(),
        '/boom': () => {
          throw new MeshError('internal', 'handler exploded');
        },
      },
    });
    ({ port } = await server.start());
  });

  afterAll(async () => {
    await server.close();
  });

  it('answers with a base64 JSON patch', async () => {
    const reply = await post(
      port,
      '/mutate',
      review({ metadata: { name: 'p', annotations: {} } }),
      ca.certPath,
    );
    expect(reply.status).toBe(200);
    const out = reply.json() as AdmissionReview;
    expect(out).toMatchObject({
      apiVersion: 'admission.k8s.io/v1',
      kind: 'AdmissionReview',
      response: { uid: 'uid-1', allowed: true, patchType: 'JSONPatch', warnings: ['mutated'] },
    });
    expect(JSON.parse(Buffer.from(out.response!.patch!, 'base64').toString())).toEqual([
      { op: 'add', path: '/metadata/annotations/tsmesh.io~1seen-by', value: 'admin' },
    ]);
  });

  it('allows and denies with a status message', async () => {
    const ok = (
      await post(port, '/validate', review({ metadata: { name: 'good' } }, 'u2'), ca.certPath)
    ).json() as AdmissionReview;
    expect(ok.response).toEqual({ uid: 'u2', allowed: true });
    const no = (
      await post(port, '/validate', review({ metadata: { name: 'bad' } }, 'u3'), ca.certPath)
    ).json() as AdmissionReview;
    expect(no.response).toEqual({
      uid: 'u3',
      allowed: false,
      status: { code: 422, message: 'pods named bad are not allowed' },
    });
  });

  it('malformed JSON gets 400 with a clear message, and the server keeps serving', async () => {
    const bad = await post(port, '/mutate', '{"apiVersion": "admission.k8s.io/v1", "kind": ', ca.certPath);
    expect(bad.status).toBe(400);
    expect((bad.json() as { message: string }).message).toMatch(/^request body is not valid JSON: /);
    const notReview = await post(port, '/mutate', JSON.stringify({ kind: 'Pod' }), ca.certPath);
    expect(notReview.status).toBe(400);
    expect((notReview.json() as { message: string }).message).toContain(
      'expected an AdmissionReview (apiVersion admission.k8s.io/v1) with request.uid',
    );
    expect((await post(port, '/mutate', review({ metadata: {} }), ca.certPath)).status).toBe(200);
  });

  it('refuses bodies over the limit with 413, other methods with 405, unknown paths with 404', async () => {
    const huge = review({ metadata: { name: 'x', annotations: { big: 'x'.repeat(100 * 1024) } } });
    const tooLarge = await post(port, '/mutate', huge, ca.certPath);
    expect(tooLarge.status).toBe(413);
    expect((tooLarge.json() as { message: string }).message).toBe('request body larger than 65536 bytes');
    expect((await post(port, '/mutate', '', ca.certPath, 'GET')).status).toBe(405);
    const missing = await post(port, '/nope', review({}), ca.certPath);
    expect(missing.status).toBe(404);
    expect((missing.json() as { message: string }).message).toContain('serving /mutate, /validate, /boom');
    expect((await post(port, '/validate', review({ metadata: { name: 'fine' } }), ca.certPath)).status).toBe(
      200,
    );
  });

  it('a failing handler gives 500 (so failurePolicy applies) and the server keeps serving', async () => {
    const reply = await post(port, '/boom', review({}), ca.certPath);
    expect(reply.status).toBe(500);
    expect((reply.json() as { message: string }).message).toBe('admission handler failed: handler exploded');
    expect((await post(port, '/validate', review({ metadata: { name: 'fine' } }), ca.certPath)).status).toBe(
      200,
    );
    const counts = (await registry.getSingleMetric('tsmesh_webhook_requests_total')!.get()).values;
    const by = (path: string, outcome: string) =>
      counts.find((v) => v.labels.path === path && v.labels.outcome === outcome)?.value;
    expect(by('/boom', 'error')).toBe(1);
    expect(by('/mutate', 'too_large')).toBe(1);
    expect(by('unknown', 'not_found')).toBe(1);
  });

  it('reloads the serving certificate when its files change; a broken pair is not used', async () => {
    await expect(
      post(port, '/validate', review({ metadata: { name: 'x' } }), otherCa.certPath),
    ).rejects.toThrow();
    // A half-done update (new key, old certificate) is refused and the old pair stays.
    await copyFile(join(dir, 'rotated.key'), keyFile());
    await new Promise((r) => setTimeout(r, 400));
    expect((await post(port, '/validate', review({ metadata: { name: 'x' } }), ca.certPath)).status).toBe(
      200,
    );
    await copyFile(join(dir, 'rotated.crt'), certFile());
    await expect
      .poll(
        async () =>
          (
            await post(port, '/validate', review({ metadata: { name: 'x' } }), otherCa.certPath).catch(
              () => undefined,
            )
          )?.status,
        { timeout: 5000 },
      )
      .toBe(200);
    await expect(post(port, '/validate', review({ metadata: { name: 'x' } }), ca.certPath)).rejects.toThrow();
    const reloads = (await registry.getSingleMetric('tsmesh_webhook_certificate_reloads_total')!.get())
      .values;
    expect(reloads.find((v) => v.labels.result === 'ok')?.value).toBeGreaterThanOrEqual(1);
    expect(reloads.find((v) => v.labels.result === 'error')?.value).toBeGreaterThanOrEqual(1);
  });
});

describe('loadCertificatePair', () => {
  it('names the file when the pair is unusable', async () => {
    await expect(
      loadCertificatePair(join(dir, 'serving.crt'), join(dir, 'rotated.key')),
    ).rejects.toMatchObject({
      code: 'config',
      message: 'the key does not belong to the certificate',
      where: join(dir, 'rotated.key'),
    });
    await expect(
      loadCertificatePair(join(dir, 'missing.crt'), join(dir, 'serving.key')),
    ).rejects.toMatchObject({ code: 'config', where: join(dir, 'missing.crt') });
    await expect(
      loadCertificatePair(join(dir, 'serving.key'), join(dir, 'serving.key')),
    ).rejects.toMatchObject({ message: expect.stringMatching(/^not a PEM certificate/) });
  });
});
