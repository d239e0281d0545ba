// `tsmesh upgrade --from-manifests`: the installed values and certificates are kept; `upgrade
// --crds` prints this version's CRDs as `install --crds` does (on a cluster: install-check.test.ts).
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { parseAllDocuments } from 'yaml';
import { FIXED_CERTS, runCli } from './install.test-support.js';

const dir = mkdtempSync(join(tmpdir(), 'tsmesh-upgrade-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const secretData = (text: string, name: string) =>
  (
    parseAllDocuments(text)
      .map((d) => d.toJS() as { kind: string; metadata: { name: string }; data?: Record<string, string> })
      .find((o) => o.metadata.name === name) as { data: Record<string, string> }
  ).data;

describe('tsmesh upgrade', () => {
  it('re-renders the same control plane from the previous manifests', async () => {
    const install = await runCli(['install', ...FIXED_CERTS, '--set', 'controllerReplicas=2']);
    const file = join(dir, 'installed.yaml');
    writeFileSync(file, install.out);
    const upgrade = await runCli([
      'upgrade',
      '--from-manifests',
      file,
      '--set',
      'linkerdVersion=test-version',
    ]);
    expect(upgrade.err).toBe('');
    expect(upgrade.out).toBe(install.out);
  });

  it('keeps generated anchors, issuer and webhook certificates, and moves to the CLI version', async () => {
    const install = await runCli(['install']);
    const file = join(dir, 'generated.yaml');
    writeFileSync(file, install.out);
    const upgrade = await runCli(['upgrade', '--from-manifests', file, '--set', 'proxy.logLevel=debug']);
    expect(upgrade.exitCode).toBe(0);
    for (const name of [
      'linkerd-identity-issuer',
      'linkerd-proxy-injector-k8s-tls',
      'linkerd-identity-trust-roots',
    ])
      expect(secretData(upgrade.out, name)).toEqual(secretData(install.out, name));
    expect(upgrade.out).toContain('value: debug');
  });

  it('--crds prints the CRDs of this version, as install --crds (Gateway API ones as the values say)', async () => {
    for (const flags of [[], ['--gateway-api'], ['--set', 'installGatewayAPI=true']]) {
      const upgrade = await runCli(['upgrade', '--crds', '--ignore-cluster', ...flags]);
      expect(upgrade.exitCode, upgrade.err).toBe(0);
      expect(upgrade.out).toBe((await runCli(['install', '--crds', '--ignore-cluster', ...flags])).out);
      expect(upgrade.out.includes('name: httproutes.gateway.networking.k8s.io')).toBe(flags.length > 0);
    }
  });

  it('says what is missing when the manifests hold no control plane', async () => {
    const file = join(dir, 'empty.yaml');
    writeFileSync(file, 'apiVersion: v1\nkind: Namespace\nmetadata:\n  name: x\n');
    const r = await runCli(['upgrade', '--from-manifests', file]);
    expect(r.exitCode).toBe(1);
    expect(r.err).toMatch(/no linkerd-config ConfigMap/);
  });
});
