import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, expect, test } from 'vitest';
import { openssl } from './openssl.js';
import { generateControlPlanePki } from './pki.js';

const dirs: string[] = [];
afterAll(() => Promise.all(dirs.map((d) => rm(d, { recursive: true, force: true }))));

test('generateControlPlanePki: certificates verify against their CA with the SANs and subjects kube-apiserver needs', async () => {
  const dir = await mkdtemp(join(tmpdir(), 'testenv-pki-'));
  dirs.push(dir);
  const pki = await generateControlPlanePki({ dir, kubernetesServiceIp: '198.19.0.1' });

  for (const cert of [pki.apiserver, pki.admin, pki.controllerManager]) {
    expect(await openssl(['verify', '-CAfile', pki.ca.certPath, cert.certPath])).toContain(': OK');
  }
  expect(
    await openssl(['verify', '-CAfile', pki.frontProxyCa.certPath, pki.frontProxyClient.certPath]),
  ).toContain(': OK');
  const serving = await openssl(['x509', '-in', pki.apiserver.certPath, '-noout', '-text']);
  expect(serving).toContain('IP Address:127.0.0.1');
  expect(serving).toContain('IP Address:198.19.0.1');
  expect(serving).toContain('DNS:kubernetes.default.svc');
  expect(serving).toContain('TLS Web Server Authentication');
  const admin = await openssl(['x509', '-in', pki.admin.certPath, '-noout', '-subject']);
  expect(admin).toMatch(/O ?= ?system:masters, CN ?= ?admin/);
  const sa = await openssl(['pkey', '-pubin', '-in', pki.serviceAccountPublicKeyPath, '-noout', '-text']);
  expect(sa).toContain('Public-Key: (2048 bit)');
});
