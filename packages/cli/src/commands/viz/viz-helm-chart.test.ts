// charts/tsmesh-viz is what generateVizHelmChart() writes (regenerate with TSMESH_UPDATE_GOLDEN=1),
// `helm lint --strict` is clean, and `helm template` (the real helm, built by testenv) renders the
// objects `tsmesh viz install` prints for the same values: exactly the renderer's objects for the
// same certificates, and the CLI's output but for its freshly generated certificates.
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
import { parseAllDocuments } from 'yaml';
import { createWebhookCertificate } from '../../install/index.js';
import { VERSION } from '../../version.js';
import { runCli } from '../install.test-support.js';
import { generateVizHelmChart } from './viz-helm-chart.js';
import { DEFAULT_VIZ_VALUES, vizManifests, type VizCertificates, type VizValues } from './viz-manifests.js';

const chartsDir = fileURLToPath(new URL('../../../../../charts/', import.meta.url));
const chart = join(chartsDir, 'tsmesh-viz');
const update = process.env.TSMESH_UPDATE_GOLDEN === '1';
const tmp = mkdtempSync(join(tmpdir(), 'tsmesh-viz-helm-'));
let helm: string;
let certs: VizCertificates;
let certsFile: string;

beforeAll(async () => {
  helm = (await ensureBinaries({ components: ['helm'] })).helm;
  certs = {
    tap: createWebhookCertificate('tap', 'linkerd-viz'),
    tapInjector: createWebhookCertificate('tap-injector', 'linkerd-viz'),
  };
  certsFile = join(tmp, 'certs.json');
  writeFileSync(certsFile, JSON.stringify(certs));
}, 45 * 60_000);
afterAll(() => rmSync(tmp, { recursive: true, force: true }));

type Obj = { kind: string; metadata: { name: string } } & Record<string, unknown>;
const sorted = (objects: Obj[]) =>
  objects
    .slice()
    .sort((a, b) => `${a.kind}/${a.metadata.name}`.localeCompare(`${b.kind}/${b.metadata.name}`));
const parse = (text: string): Obj[] =>
  sorted(
    parseAllDocuments(text)
      .map((d) => d.toJS() as Obj | null)
      .filter((o): o is Obj => o !== null),
  );
/** Round-trip through YAML so both sides compare as parsed documents. */
const asParsed = (objects: Record<string, unknown>[]) =>
  sorted(objects.map((o) => JSON.parse(JSON.stringify(o)) as Obj));

/** Certificates and CA bundles blanked (the CLI generates new ones on every run). */
function withoutCerts(objects: Obj[]): Obj[] {
  return objects.map((o) => {
    const c = structuredClone(o) as Obj & {
      data?: Record<string, string>;
      spec?: { caBundle?: string };
      webhooks?: { clientConfig: { caBundle?: string } }[];
    };
    if (c.kind === 'Secret' && c.data) c.data = { 'tls.crt': '', 'tls.key': '' };
    if (c.kind === 'APIService' && c.spec) c.spec.caBundle = '';
    for (const w of c.webhooks ?? []) w.clientConfig.caBundle = '';
    return c;
  });
}

const template = (...args: string[]) =>
  execFileSync(helm, ['template', 'viz', chart, '--namespace', 'linkerd-viz', '-f', certsFile, ...args], {
    encoding: 'utf8',
    timeout: 60_000,
    stdio: 'pipe',
  });

describe('the viz Helm chart', () => {
  it('is generated from the viz install renderer (charts/tsmesh-viz up to date)', () => {
    const files = generateVizHelmChart();
    for (const [path, text] of files) {
      const file = join(chartsDir, path);
      if (update || !existsSync(file)) {
        mkdirSync(dirname(file), { recursive: true });
        writeFileSync(file, text);
      }
      expect(readFileSync(file, 'utf8'), path).toBe(text);
    }
    const stale = readdirSync(chart, { recursive: true, encoding: 'utf8' })
      .filter((f) => /\.(yaml|json)$/.test(f))
      .map((f) => join('tsmesh-viz', f))
      .filter((f) => !files.has(f));
    expect(stale).toEqual([]);
  });

  it('passes helm lint --strict', () => {
    const out = execFileSync(helm, ['lint', '--strict', chart, '-f', certsFile], { encoding: 'utf8' });
    expect(out).toMatch(/1 chart\(s\) linted, 0 chart\(s\) failed/);
  });

  it('helm template renders what viz install renders (with viz’s own Prometheus)', async () => {
    const helmOut = parse(template());
    const values: VizValues = { ...DEFAULT_VIZ_VALUES };
    expect(helmOut).toEqual(asParsed(vizManifests(values, new Date(), certs)));
    const cli = await runCli(['viz', 'install']);
    expect(cli.exitCode, cli.err).toBe(0);
    expect(withoutCerts(helmOut)).toEqual(withoutCerts(parse(cli.out.replaceAll('<VERSION>', VERSION))));
  });

  it('… and with an external Prometheus, another namespace and cluster domain, --set overrides', async () => {
    const sets = [
      'prometheusUrl=http://prom.monitoring.svc:9090',
      'clusterDomain=example.org',
      'imageRegistry=registry.example/tsmesh',
      'controlPlaneNamespace=mesh',
    ];
    const helmOut = parse(
      execFileSync(
        helm,
        [
          'template',
          'viz',
          chart,
          '--namespace',
          'viz2',
          '-f',
          certsFile,
          ...sets.flatMap((s) => ['--set', s]),
        ],
        { encoding: 'utf8', timeout: 60_000 },
      ),
    );
    expect(helmOut.map((o) => o.kind)).not.toContain('ConfigMap');
    const cli = await runCli(['viz', 'install', '-n', 'viz2', ...sets.flatMap((s) => ['--set', s])]);
    expect(cli.exitCode, cli.err).toBe(0);
    expect(withoutCerts(helmOut)).toEqual(withoutCerts(parse(cli.out.replaceAll('<VERSION>', VERSION))));
    const web = helmOut.find((o) => o.kind === 'Deployment' && o.metadata.name === 'web') as unknown as {
      spec: { template: { spec: { containers: { command: string[] }[] } } };
    };
    const host = web.spec.template.spec.containers[0]!.command.find((a) => a.startsWith('--enforced-host='))!;
    const re = new RegExp(host.slice('--enforced-host='.length));
    expect(re.test('web.viz2.svc.example.org:8084')).toBe(true);
    expect(re.test('web.viz2.svcXexample.org')).toBe(false);
  });

  it('refuses values the schema does not allow', () => {
    expect(() => template('--set', 'logLevel=loud')).toThrow(/logLevel/);
    expect(() =>
      execFileSync(helm, ['template', 'viz', chart, '--namespace', 'linkerd-viz'], {
        encoding: 'utf8',
        stdio: 'pipe',
      }),
    ).toThrow(/crtPEM/);
  });
});
