// The charts in charts/ are what generateHelmCharts() writes (regenerate with
// TSMESH_UPDATE_GOLDEN=1), `helm lint` is clean, and `helm template` (the real helm, built by
// testenv) renders the objects `tsmesh install` prints for the same values and certificates.
import { execFileSync } from 'node:child_process';
import {
  existsSync,
  mkdirSync,
  mkdtempSync,
  readFileSync,
  readdirSync,
  rmSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { ensureBinaries } from '@tsmesh/testenv';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parse as parseYaml, parseAllDocuments } from 'yaml';
import { FIXED_CERTS, runCli } from '../commands/install.test-support.js';
import { generateHelmCharts } from './helm-chart.js';
import { haValues } from './values.js';
import { VERSION } from '../version.js';

const chartsDir = fileURLToPath(new URL('../../../../charts/', import.meta.url));
const fixtures = fileURLToPath(new URL('../../test/fixtures/install/', import.meta.url));
const update = process.env.TSMESH_UPDATE_GOLDEN === '1';
const tmp = mkdtempSync(join(tmpdir(), 'tsmesh-helm-'));
let helm: string;

beforeAll(async () => {
  helm = (await ensureBinaries({ components: ['helm'] })).helm;
}, 45 * 60_000);
afterAll(() => rmSync(tmp, { recursive: true, force: true }));

type Obj = { kind: string; metadata: { name: string; namespace?: string }; data?: Record<string, string> };
/** Objects by kind/name; linkerd-config's values compared as data, not text. */
function normalize(text: string): Obj[] {
  return parseAllDocuments(text)
    .map((d) => d.toJS() as Obj | null)
    .filter((o): o is Obj => o !== null)
    .map((o) => {
      if (o.kind === 'ConfigMap' && o.metadata.name === 'linkerd-config' && o.data?.values)
        return { ...o, data: { values: parseYaml(o.data.values) as string } };
      return o;
    })
    .sort((a, b) => `${a.kind}/${a.metadata.name}`.localeCompare(`${b.kind}/${b.metadata.name}`));
}

function certificateValues(): string {
  const read = (f: string) => readFileSync(join(fixtures, f), 'utf8');
  const webhooks = JSON.parse(read('webhook-certs.values.json')) as Record<string, unknown>;
  const file = join(tmp, 'certs.json');
  writeFileSync(
    file,
    JSON.stringify({
      linkerdVersion: 'test-version',
      identityTrustAnchorsPEM: read('ca.crt'),
      identity: { issuer: { tls: { crtPEM: read('issuer.crt'), keyPEM: read('issuer.key') } } },
      ...webhooks,
    }),
  );
  return file;
}

const template = (chart: string, ...args: string[]) =>
  execFileSync(helm, ['template', 'tsmesh', join(chartsDir, chart), '--namespace', 'linkerd', ...args], {
    encoding: 'utf8',
    timeout: 60_000,
  });

describe('Helm charts', () => {
  it('are generated from the install renderer (charts/ up to date)', () => {
    const files = generateHelmCharts();
    const onDisk = (dir: string): string[] =>
      readdirSync(join(chartsDir, dir), { recursive: true, encoding: 'utf8' })
        .filter((f) => /\.(yaml|json)$/.test(f))
        .map((f) => join(dir, f));
    for (const [path, text] of files) {
      const file = join(chartsDir, path);
      if (update || !existsSync(file)) {
        mkdirSync(dirname(file), { recursive: true });
        writeFileSync(file, text);
      }
      expect(readFileSync(file, 'utf8'), path).toBe(text);
    }
    const stale = [...onDisk('tsmesh-crds'), ...onDisk('tsmesh-control-plane')].filter((f) => !files.has(f));
    expect(stale).toEqual([]);
  });

  it('pass helm lint', () => {
    const values = certificateValues();
    for (const chart of ['tsmesh-crds', 'tsmesh-control-plane']) {
      const out = execFileSync(helm, ['lint', '--strict', join(chartsDir, chart), '-f', values], {
        encoding: 'utf8',
      });
      expect(out).toMatch(/1 chart\(s\) linted, 0 chart\(s\) failed/);
    }
  });

  it('helm template tsmesh-crds renders what tsmesh install --crds prints (Gateway API CRDs as the values say)', async () => {
    const crds = async (...args: string[]) =>
      // runCli hides the version; the chart carries it in the CRDs' created-by annotation.
      normalize(
        (await runCli(['install', '--crds', '--ignore-cluster', ...args])).out.replaceAll(
          '<VERSION>',
          VERSION,
        ),
      );
    const names = (objects: Obj[]) =>
      objects.map((o) => o.metadata.name).filter((n) => n.includes('gateway'));
    expect(normalize(template('tsmesh-crds'))).toEqual(await crds());
    expect(names(await crds())).toEqual([]);
    const withGateway = ['--set', 'installGatewayAPI=true'];
    expect(normalize(template('tsmesh-crds', ...withGateway))).toEqual(await crds(...withGateway));
    expect(names(await crds(...withGateway))).toEqual([
      'grpcroutes.gateway.networking.k8s.io',
      'httproutes.gateway.networking.k8s.io',
    ]);
    // enableHttpRoutes overrides installGatewayAPI, either way.
    for (const sets of [
      ['--set', 'installGatewayAPI=true', '--set', 'enableHttpRoutes=false'],
      ['--set', 'enableHttpRoutes=true'],
    ])
      expect(normalize(template('tsmesh-crds', ...sets))).toEqual(await crds(...sets));
  });

  it('helm template tsmesh-control-plane renders what tsmesh install prints', async () => {
    const helmOut = normalize(template('tsmesh-control-plane', '-f', certificateValues()));
    const cli = normalize((await runCli(['install', ...FIXED_CERTS])).out);
    expect(helmOut.map((o) => `${o.kind}/${o.metadata.name}`)).toEqual(
      cli.map((o) => `${o.kind}/${o.metadata.name}`),
    );
    expect(helmOut).toEqual(cli);
  });

  it('… also with the HA values and --set overrides', async () => {
    const ha = join(tmp, 'ha.json');
    writeFileSync(ha, JSON.stringify(haValues()));
    const sets = [
      '--set',
      'identity.image.name=registry.example/identity',
      '--set',
      'clusterDomain=example.org',
    ];
    const helmOut = normalize(template('tsmesh-control-plane', '-f', certificateValues(), '-f', ha, ...sets));
    const cli = normalize((await runCli(['install', '--ha', ...FIXED_CERTS, ...sets])).out);
    expect(helmOut).toEqual(cli);
  });

  it('… and with policyController.additionalArgs, a list or one string (as Linkerd documents it)', async () => {
    const flag = '--allow-l5d-request-headers';
    const deployment = (objects: Obj[]) =>
      objects.find((o) => o.kind === 'Deployment' && o.metadata.name === 'linkerd-destination');
    for (const set of [
      `policyController.additionalArgs={${flag}}`,
      `policyController.additionalArgs=${flag}`,
    ]) {
      const helmOut = normalize(template('tsmesh-control-plane', '-f', certificateValues(), '--set', set));
      const cli = normalize((await runCli(['install', ...FIXED_CERTS, '--set', set])).out);
      expect(JSON.stringify(deployment(cli))).toContain(`"${flag}"`);
      expect(deployment(helmOut)).toEqual(deployment(cli));
      // The list form stores the same values in linkerd-config too.
      if (set.includes('{')) expect(helmOut).toEqual(cli);
    }
  });

  it('… and with proxyInit.kubeAPIServerPorts, which the identity and destination pods skip', async () => {
    for (const set of ['proxyInit.kubeAPIServerPorts=6443', 'proxyInit.kubeAPIServerPorts=443\\,8443']) {
      const helmOut = normalize(template('tsmesh-control-plane', '-f', certificateValues(), '--set', set));
      const cli = normalize((await runCli(['install', ...FIXED_CERTS, '--set', set.replace('\\', '')])).out);
      const ports = set.split('=')[1]!.replace('\\', '');
      const identity = cli.find((o) => o.kind === 'Deployment' && o.metadata.name === 'linkerd-identity');
      expect(JSON.stringify(identity)).toContain(`"config.linkerd.io/skip-outbound-ports":"${ports}"`);
      expect(helmOut).toEqual(cli);
    }
  });

  it('rejects values the schema does not allow', () => {
    expect(() =>
      execFileSync(
        helm,
        ['template', 'x', join(chartsDir, 'tsmesh-control-plane'), '--set', 'controllerReplicas=many'],
        {
          encoding: 'utf8',
          stdio: 'pipe',
        },
      ),
    ).toThrow(/controllerReplicas/);
  });
});
