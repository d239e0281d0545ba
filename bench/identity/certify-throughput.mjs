#!/usr/bin/env node
// Certify throughput of tsmesh-identity on one core.
//
// The identity service runs as its real binary (packages/identity/bin/tsmesh-identity.js, built
// dist) pinned to CPU 0 with taskset; this process (the load generator) is pinned to CPU 1. Each
// scenario: N ServiceAccounts, each with its own token and CSR, C calls in flight over a few gRPC
// channels, for D seconds; certificates per second = successful Certify calls / D.
//
// Scenarios (--scenario, repeatable; default all):
//   kube-cached     TokenReview against a real kube-apiserver (@tsmesh/testenv), reviews cached
//   kube-uncached   the same with --token-cache-size 0: one TokenReview per Certify
//   local-cached    local-mode ES256 tokens, cached
//   local-uncached  local-mode tokens verified on every call
//
// Build first: `npm run build` (or `corepack pnpm --filter @tsmesh/identity... build`).
// Run: `node bench/identity/certify-throughput.mjs [--duration 10] [--concurrency 64] [--accounts 100]`
import { spawn, execFileSync } from 'node:child_process';
import { createServer } from 'node:net';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { credentials } from '@grpc/grpc-js';
import { CoreV1Api } from '@kubernetes/client-node';
import {
  createCertificateRequest,
  createIntermediateCertificate,
  createRootCertificate,
  formatPrivateKey,
  generateKeyPair,
  IdentityClient,
} from '@tsmesh/core';
import { createLocalTokenIssuer } from '@tsmesh/identity';
import { createTestNamespace, loadKubeConfig, startTestEnv } from '@tsmesh/testenv';

const here = dirname(fileURLToPath(import.meta.url));
const binary = join(here, '..', '..', 'packages', 'identity', 'bin', 'tsmesh-identity.js');
const { values } = parseArgs({
  options: {
    duration: { type: 'string', default: '10' },
    concurrency: { type: 'string', default: '64' },
    accounts: { type: 'string', default: '100' },
    channels: { type: 'string', default: '4' },
    scenario: { type: 'string', multiple: true },
  },
});
const durationS = Number(values.duration);
const concurrency = Number(values.concurrency);
const accounts = Number(values.accounts);
const channels = Number(values.channels);
const scenarios = values.scenario ?? ['local-cached', 'local-uncached', 'kube-cached', 'kube-uncached'];

try {
  execFileSync('taskset', ['-cp', '1', String(process.pid)], { stdio: 'ignore' });
} catch {
  console.error('warning: taskset failed; the load generator is not pinned');
}

const work = mkdtempSync(join(tmpdir(), 'bench-identity-'));
const root = createRootCertificate();
const issuer = createIntermediateCertificate({ issuer: root });
const issuerDir = join(work, 'issuer');
execFileSync('mkdir', ['-p', issuerDir]);
writeFileSync(join(issuerDir, 'crt.pem'), issuer.certificate.pem);
writeFileSync(join(issuerDir, 'key.pem'), formatPrivateKey(issuer.privateKey));
writeFileSync(join(issuerDir, 'ca.crt'), root.certificate.pem);

const freePort = () =>
  new Promise((resolve) => {
    const s = createServer().listen(0, '127.0.0.1', () => {
      const { port } = s.address();
      s.close(() => resolve(port));
    });
  });

async function startService(args) {
  const port = await freePort();
  const adminPort = await freePort();
  const child = spawn(
    'taskset',
    [
      '-c',
      '0',
      process.execPath,
      ...nodeArgs,
      binary,
      '--addr',
      `127.0.0.1:${port}`,
      '--admin-addr',
      `127.0.0.1:${adminPort}`,
      '--log-level',
      'warn',
      ...args,
    ],
    {
      stdio: ['ignore', 'inherit', 'inherit'],
    },
  );
  for (let i = 0; i < 200; i++) {
    try {
      const res = await fetch(`http://127.0.0.1:${adminPort}/ready`);
      if (res.status === 200) return { port, child };
    } catch {}
    await new Promise((r) => setTimeout(r, 100));
  }
  child.kill();
  throw new Error('identity service did not become ready');
}

function certify(client, request) {
  return new Promise((resolve, reject) =>
    client.certify(request, { deadline: new Date(Date.now() + 30_000) }, (err, res) =>
      err ? reject(err) : resolve(res),
    ),
  );
}

async function load(port, requests) {
  const clients = Array.from(
    { length: channels },
    (_, i) =>
      new IdentityClient(`127.0.0.1:${port}`, credentials.createInsecure(), {
        'grpc.channel_id': i,
        'grpc.use_local_subchannel_pool': 1,
      }),
  );
  // Warm up: one call per account (fills the cache in cached scenarios).
  await Promise.all(requests.map((r, i) => certify(clients[i % channels], r)));
  let ok = 0;
  let failed = 0;
  let next = 0;
  const latencies = [];
  const end = Date.now() + durationS * 1000;
  const worker = async (w) => {
    while (Date.now() < end) {
      const r = requests[next++ % requests.length];
      const t0 = performance.now();
      try {
        await certify(clients[w % channels], r);
        ok++;
        latencies.push(performance.now() - t0);
      } catch (err) {
        failed++;
        if (failed < 3) console.error(`  error: ${err.details ?? err.message}`);
      }
    }
  };
  const t0 = performance.now();
  await Promise.all(Array.from({ length: concurrency }, (_, w) => worker(w)));
  const elapsedS = (performance.now() - t0) / 1000;
  for (const c of clients) c.close();
  latencies.sort((a, b) => a - b);
  const q = (p) => latencies[Math.min(latencies.length - 1, Math.floor(p * latencies.length))]?.toFixed(1);
  return { rate: ok / elapsedS, ok, failed, p50: q(0.5), p99: q(0.99) };
}

const identityOf = (ns, sa) => `${sa}.${ns}.serviceaccount.identity.linkerd.cluster.local`;
const csrOf = (identity) =>
  createCertificateRequest({ identity, privateKey: generateKeyPair().privateKey, commonName: false }).der;

// Extra node flags for the service, e.g. BENCH_SERVER_NODE_ARGS='--cpu-prof --cpu-prof-dir=/tmp/prof'.
const nodeArgs = (process.env.BENCH_SERVER_NODE_ARGS ?? '').split(' ').filter(Boolean);
const results = [];
async function run(name, args, requests) {
  const { port, child } = await startService(args);
  try {
    const r = await load(port, requests);
    results.push({ name, ...r });
    console.log(
      `${name.padEnd(16)} ${r.rate.toFixed(0).padStart(6)} certs/s  ok ${r.ok}  failed ${r.failed}  p50 ${r.p50} ms  p99 ${r.p99} ms`,
    );
  } finally {
    child.kill('SIGTERM');
    await new Promise((r) => child.once('exit', r));
  }
}

try {
  console.log(
    `node ${process.version}, ${accounts} accounts, ${concurrency} calls in flight over ${channels} channels, ${durationS} s per scenario; server pinned to CPU 0`,
  );
  if (scenarios.some((s) => s.startsWith('local'))) {
    const tokens = createLocalTokenIssuer();
    const keyFile = join(work, 'local-token.pub');
    writeFileSync(keyFile, tokens.publicKey.export({ type: 'spki', format: 'pem' }));
    const requests = Array.from({ length: accounts }, (_, i) => {
      const identity = identityOf('bench', `sa-${i}`);
      return {
        identity,
        token: Buffer.from(tokens.mint({ namespace: 'bench', serviceAccount: `sa-${i}` })),
        certificateSigningRequest: csrOf(identity),
      };
    });
    const base = [
      '--issuer-dir',
      issuerDir,
      '--local-token-key',
      keyFile,
      '--controller-namespace',
      'linkerd',
    ];
    if (scenarios.includes('local-cached')) await run('local-cached', base, requests);
    if (scenarios.includes('local-uncached'))
      await run('local-uncached', [...base, '--token-cache-size', '0'], requests);
  }
  if (scenarios.some((s) => s.startsWith('kube'))) {
    const env = await startTestEnv({ dir: join(work, 'kube') });
    try {
      const kc = loadKubeConfig(env.kubeconfigPath);
      const ns = await createTestNamespace(kc, { prefix: 'bench-identity' });
      const core = kc.makeApiClient(CoreV1Api);
      const requests = [];
      for (let i = 0; i < accounts; i++) {
        const sa = `sa-${i}`;
        await core.createNamespacedServiceAccount({ namespace: ns.name, body: { metadata: { name: sa } } });
        const tr = await core.createNamespacedServiceAccountToken({
          name: sa,
          namespace: ns.name,
          body: { spec: { audiences: ['identity.l5d.io'], expirationSeconds: 3600 } },
        });
        const identity = identityOf(ns.name, sa);
        requests.push({
          identity,
          token: Buffer.from(tr.status.token),
          certificateSigningRequest: csrOf(identity),
        });
      }
      const base = [
        '--issuer-dir',
        issuerDir,
        '--kubeconfig',
        env.kubeconfigPath,
        '--controller-namespace',
        'linkerd',
      ];
      if (scenarios.includes('kube-cached')) await run('kube-cached', base, requests);
      if (scenarios.includes('kube-uncached'))
        await run('kube-uncached', [...base, '--token-cache-size', '0'], requests);
    } finally {
      await env.stop();
    }
  }
} finally {
  rmSync(work, { recursive: true, force: true });
}
console.log(JSON.stringify(results));
