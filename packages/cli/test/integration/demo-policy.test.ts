// Policy edits apply live in the running demo: changing voting's AuthorizationPolicy so that only
// vote-bot's identity may call it makes voting's proxy refuse web (inbound_http_authz_deny_total
// rises, web's votes fail); restoring the file lets web vote again.
import { spawn } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseAllDocuments } from 'yaml';
import { afterAll, describe, expect, it } from 'vitest';
import { parsePrometheusText, type Sample } from '../../src/demo/index.js';

const cli = new URL('../../bin/tsmesh.js', import.meta.url).pathname;
const built = existsSync(new URL('../../dist/main.js', import.meta.url));

const sum = (samples: readonly Sample[], name: string, labels: Record<string, string> = {}) =>
  samples
    .filter((s) => s.name === name && Object.entries(labels).every(([k, v]) => s.labels[k] === v))
    .reduce((n, s) => n + s.value, 0);

describe.skipIf(!built)('tsmesh demo: a policy edit applies live (built CLI)', () => {
  const state = mkdtempSync(join(tmpdir(), 'tsmesh-demo-policy-'));
  afterAll(() => rmSync(state, { recursive: true, force: true }));

  it('denies web → voting after the edit and allows it again after the revert', async () => {
    const child = spawn(
      process.execPath,
      [cli, 'demo', '--duration', '90s', '--state', state, '--port', '0'],
      {
        stdio: ['ignore', 'pipe', 'pipe'],
      },
    );
    let output = '';
    child.stdout.setEncoding('utf8').on('data', (t: string) => (output += t));
    child.stderr.setEncoding('utf8').on('data', (t: string) => (output += t));
    const exited = new Promise((resolve) => child.once('exit', resolve));
    try {
      const deadline = Date.now() + 90_000;
      while (!output.includes('The app: ')) {
        if (Date.now() > deadline || child.exitCode !== null)
          throw new Error(`the demo did not come up:\n${output}`);
        await new Promise((r) => setTimeout(r, 200));
      }
      const votingAdmin = /^\s+voting\s+pod \S+\s+proxy admin (\S+)$/m.exec(output)![1]!;
      const scrape = async () => parsePrometheusText(await (await fetch(votingAdmin)).text());
      const waitFor = async (what: string, ok: (s: Sample[]) => boolean) => {
        const until = Date.now() + 30_000;
        for (;;) {
          const samples = await scrape();
          if (ok(samples)) return samples;
          if (Date.now() > until) throw new Error(`timed out waiting for ${what}`);
          await new Promise((r) => setTimeout(r, 500));
        }
      };
      const webCalls = (s: Sample[]) =>
        sum(s, 'response_total', {
          direction: 'inbound',
          client_id: 'web.emojivoto.serviceaccount.identity.linkerd.cluster.local',
          classification: 'success',
        });
      const before = await waitFor('web calling voting', (s) => webCalls(s) > 0);
      expect(sum(before, 'inbound_http_authz_deny_total')).toBe(0);

      // Only vote-bot may call voting now.
      const file = join(state, 'manifests', '30-policy.yaml');
      const original = readFileSync(file, 'utf8');
      type Doc = {
        metadata: { name: string };
        spec: { requiredAuthenticationRefs: { name: string }[] };
      };
      const docs = parseAllDocuments(original).map((d) => d.toJS() as Doc);
      const votingPolicy = docs.find((d) => d.metadata.name === 'voting-grpc-from-web')!;
      votingPolicy.spec.requiredAuthenticationRefs[0]!.name = 'vote-bot-only';
      const bot: object = {
        apiVersion: 'policy.linkerd.io/v1alpha1',
        kind: 'MeshTLSAuthentication',
        metadata: { name: 'vote-bot-only', namespace: 'emojivoto' },
        spec: { identityRefs: [{ kind: 'ServiceAccount', name: 'vote-bot' }] },
      };
      writeFileSync(file, [...docs, bot].map((d) => `---\n${JSON.stringify(d)}\n`).join(''));
      const denied = await waitFor(
        'denials of web at voting',
        (s) => sum(s, 'inbound_http_authz_deny_total') > 0,
      );
      const deniedWebCalls = webCalls(denied);

      // Back to the original: web is allowed again.
      writeFileSync(file, original);
      await waitFor('web allowed again', (s) => webCalls(s) > deniedWebCalls);
    } finally {
      child.kill('SIGTERM');
      await exited;
    }
    expect(output).toMatch(/stopped; nothing left running/);
  }, 180_000);
});
