// Policy edits apply live in the running demo: changing voting's AuthorizationPolicy so that only
// vote-bot's identity may call it makes voting's proxy refuse web (inbound_http_authz_deny_total
// rises, web's votes fail); restoring the file lets web vote again.
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseAllDocuments } from 'yaml';
import { afterAll, describe, expect, it } from 'vitest';
import { parsePrometheusText, type Sample } from '../../src/demo/index.js';
import { built, startDemo, sum } from './demo-process.js';

describe.skipIf(!built)('tsmesh demo: a policy edit applies live (built CLI)', () => {
  const state = mkdtempSync(join(tmpdir(), 'tsmesh-demo-policy-'));
  afterAll(() => rmSync(state, { recursive: true, force: true }));

  it('denies web → voting after the edit and allows it again after the revert', async () => {
    const demo = startDemo(state, ['--duration', '90s']);
    try {
      const { admin } = await demo.up();
      const votingAdmin = admin.voting!;
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
      demo.child.kill('SIGTERM');
      await demo.exited;
    }
    expect(demo.output()).toMatch(/stopped; nothing left running/);
  }, 180_000);
});
