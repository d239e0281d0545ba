// `tsmesh inject` / `uninject` against golden files in test/golden/inject (stdout as NAME.golden,
// a name prettier leaves alone, and stderr).
// Regenerate with TSMESH_UPDATE_GOLDEN=1 pnpm exec vitest run --project cli inject
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { Command } from 'commander';
import { describe, expect, it } from 'vitest';
import { parseAllDocuments } from 'yaml';
import { VERSION } from '../version.js';
import { formatReportLine, registerInjectCommands } from './inject.js';
import { expectGolden, runProgram, type ProgramRun } from './cli.test-support.js';

const fixtures = fileURLToPath(new URL('../../test/fixtures/inject/', import.meta.url));
const goldenDir = new URL('../../test/golden/inject/', import.meta.url);
const ANCHORS = `${fixtures}trust-anchors.pem`;
/** --manual with a pinned proxy version and the test trust anchors. */
const MANUAL = ['--manual', '--proxy-version', 'test-version', '--identity-trust-anchors-file', ANCHORS];

async function run(args: string[], stdin?: string): Promise<ProgramRun> {
  const r = await runProgram(args, {
    program:
      stdin === undefined
        ? undefined
        : (io) => {
            const program = new Command('tsmesh')
              .exitOverride()
              .configureOutput({ writeOut: io.out, writeErr: io.err });
            registerInjectCommands(program, io.out, io.err, async () => stdin);
            return program;
          },
  });
  // Golden files do not change with the CLI's version.
  const stable = (s: string) => s.replaceAll(`tsmesh/cli ${VERSION}`, 'tsmesh/cli <VERSION>');
  return { out: stable(r.out), err: stable(r.err.replaceAll(fixtures, '<fixtures>/')), exitCode: r.exitCode };
}

const golden = (name: string, actual: string) => expectGolden(goldenDir, name, actual);

const docs = (text: string) =>
  parseAllDocuments(text)
    .map((d) => d.toJS() as unknown)
    .filter((d) => d !== null);

describe('tsmesh inject', () => {
  it('annotates pod templates for the webhook by default, with the flags as config annotations', async () => {
    const result = await run([
      'inject',
      `${fixtures}emojivoto.yaml`,
      `${fixtures}dir`,
      '--proxy-log-level',
      'debug',
      '--skip-outbound-ports',
      '3306',
      '--skip-outbound-ports',
      '6379,11211',
      '--no-native-sidecar',
    ]);
    expect(result.exitCode).toBe(0);
    golden('annotate.yaml.golden', result.out);
    golden('annotate.stderr', result.err);
  });

  it('--manual adds the proxy (YAML in, YAML out; the Service untouched)', async () => {
    const result = await run(['inject', `${fixtures}emojivoto.yaml`, ...MANUAL, '--opaque-ports', '8080']);
    expect(result.exitCode).toBe(0);
    golden('manual.yaml.golden', result.out);
    golden('manual.stderr', result.err);
    expect(result.out.startsWith('# The service stays exactly as written, comments included.\n')).toBe(true);
  });

  it('keeps JSON as JSON, and -o switches formats', async () => {
    const json = await run(['inject', `${fixtures}web.json`, ...MANUAL]);
    expect(json.exitCode).toBe(0);
    golden('manual.json.golden', json.out);
    const injected = JSON.parse(json.out) as {
      spec: { template: { spec: { initContainers: { name: string }[] } } };
    };
    expect(injected.spec.template.spec.initContainers.map((c) => c.name)).toEqual([
      'linkerd-init',
      'linkerd-proxy',
    ]);
    const asYaml = await run(['inject', `${fixtures}web.json`, ...MANUAL, '-o', 'yaml']);
    expect(docs(asYaml.out)).toEqual([injected]);
  });

  it('reads stdin, and injecting its own output again changes nothing', async () => {
    const input = readFileSync(`${fixtures}emojivoto.yaml`, 'utf8');
    const args = ['inject', '-', ...MANUAL];
    const first = await run(args, input);
    expect(first.err).toContain('deployment "voting" injected');
    const second = await run(args, first.out);
    expect(second.out).toBe(first.out);
    expect(second.err).toContain('deployment "voting" skipped: already injected');
  });

  it("--manual takes Linkerd's chart values", async () => {
    const result = await run([
      'inject',
      '--manual',
      `${fixtures}dir/worker.yaml`,
      '--linkerd-values',
      `${fixtures}linkerd-values.yaml`,
    ]);
    expect(result.exitCode).toBe(0);
    expect(result.err).not.toContain('no trust anchors');
    const [deployment] = docs(result.out) as {
      spec: { template: { spec: { containers: { name: string; image: string }[] } } };
    }[];
    // nativeSidecar false in the values: the proxy is the first container, with Linkerd's image.
    expect(deployment!.spec.template.spec.containers[0]).toMatchObject({
      name: 'linkerd-proxy',
      image: 'cr.l5d.io/linkerd/proxy:edge-26.6.3',
    });
    const both = await run([
      'inject',
      '--manual',
      `${fixtures}dir/worker.yaml`,
      '--config',
      `${fixtures}linkerd-values.yaml`,
      '--linkerd-values',
      `${fixtures}linkerd-values.yaml`,
    ]);
    expect(both.exitCode).toBe(1);
    expect(both.err).toMatch(/not both/);
  });

  it('annotates a Namespace itself', async () => {
    const ns = 'apiVersion: v1\nkind: Namespace\nmetadata:\n  name: emojivoto\n';
    const result = await run(['inject', '-', '--proxy-log-level', 'debug'], ns);
    expect(docs(result.out)).toEqual([
      {
        apiVersion: 'v1',
        kind: 'Namespace',
        metadata: {
          name: 'emojivoto',
          annotations: { 'config.linkerd.io/proxy-log-level': 'debug', 'linkerd.io/inject': 'enabled' },
        },
      },
    ]);
    expect(result.err).toContain('namespace "emojivoto" injected');
  });

  it('reports a malformed workload, leaves it as written and carries on', async () => {
    const text =
      'apiVersion: v1\nkind: Pod\nmetadata:\n  name: odd\nspec:\n  containers: 5\n---\n' +
      readFileSync(`${fixtures}dir/worker.yaml`, 'utf8');
    const result = await run(['inject', '--manual', '-', ...MANUAL.slice(1)], text);
    expect(result.exitCode).toBe(0);
    expect(result.err).toContain(
      'pod "odd" skipped: malformed: spec.containers is not a list of named items',
    );
    expect(result.err).toContain('deployment "worker" injected');
    expect(
      result.out.startsWith(
        'apiVersion: v1\nkind: Pod\nmetadata:\n  name: odd\nspec:\n  containers: 5\n---\n',
      ),
    ).toBe(true);
  });

  it('--wait-before-exit-seconds: the annotation, a preStop sleep on a regular sidecar, refused with a native one', async () => {
    const worker = readFileSync(`${fixtures}dir/worker.yaml`, 'utf8');
    const annotated = await run(['inject', '-', '--wait-before-exit-seconds', '30'], worker);
    expect(annotated.exitCode).toBe(0);
    expect(annotated.out).toContain('config.alpha.linkerd.io/proxy-wait-before-exit-seconds: "30"');
    const regular = await run(
      ['inject', '-', ...MANUAL, '--no-native-sidecar', '--wait-before-exit-seconds', '30'],
      worker,
    );
    expect(regular.exitCode, regular.err).toBe(0);
    expect(regular.out).toMatch(/preStop:\n {12}exec:\n {14}command:\n {14}- \/bin\/sleep\n {14}- "30"\n/);
    // Linkerd's proxy partial fails on the combination: the workload is left as written, exit 1.
    const native = await run(['inject', '-', ...MANUAL, '--wait-before-exit-seconds', '30'], worker);
    expect(native.exitCode).toBe(1);
    expect(native.err).toMatch(
      /deployment "worker" not injected: config\.alpha\.linkerd\.io\/proxy-wait-before-exit-seconds=30 cannot be used with the native sidecar proxy/,
    );
    expect(native.err).toMatch(/tsmesh inject: 1 workload could not be injected/);
    expect(native.out).not.toContain('linkerd-proxy');
    const bad = await run(['inject', '-', '--wait-before-exit-seconds', '10s'], worker);
    expect(bad.exitCode).toBe(1);
    expect(bad.err).toMatch(/"10s" is not a whole number of seconds/);
  });

  it('warns when --manual has no trust anchors', async () => {
    const result = await run(['inject', '--manual', `${fixtures}dir/worker.yaml`]);
    expect(result.exitCode).toBe(0);
    expect(result.err).toMatch(/^warning: no trust anchors given/);
  });

  it('names the file and line of a document that does not parse, and exits 1', async () => {
    const result = await run(['inject', `${fixtures}broken-yaml.txt`]);
    expect(result.exitCode).toBe(1);
    expect(result.err).toMatch(/^tsmesh inject: .*YAML document 1 does not parse/);
    expect(result.err).toMatch(/<fixtures>\/broken-yaml\.txt:\d+: /);
    const url = await run(['inject', 'https://example.invalid/app.yaml']);
    expect(url.exitCode).toBe(1);
    expect(url.err).toMatch(/URLs are not supported.*curl -sL URL \| tsmesh inject -/);
    const format = await run(['inject', `${fixtures}web.json`, '-o', 'toml']);
    expect(format.err).toMatch(/unknown output format "toml"/);
  });
});

describe('tsmesh uninject', () => {
  it('removes what --manual added and gives the original objects back', async () => {
    // (No override flags: they are written as config.linkerd.io annotations, which uninject keeps.)
    const injected = await run([
      'inject',
      '--manual',
      `${fixtures}emojivoto.yaml`,
      '--identity-trust-anchors-file',
      ANCHORS,
    ]);
    const result = await run(['uninject', '-'], injected.out);
    expect(result.exitCode).toBe(0);
    golden('uninject.stderr', result.err);
    expect(docs(result.out)).toEqual(docs(readFileSync(`${fixtures}emojivoto.yaml`, 'utf8')));
  });

  it('reports workloads that have no proxy', async () => {
    const result = await run(['uninject', `${fixtures}dir/worker.yaml`]);
    expect(result.err).toContain('deployment "worker" skipped: it has no linkerd-proxy container');
  });
});

describe('formatReportLine', () => {
  it('writes Linkerd-style lines', () => {
    const base = { kind: 'Deployment', name: 'web', namespace: 'emojivoto', warnings: [] };
    expect(formatReportLine({ ...base, status: 'injected' })).toBe('deployment "web" injected');
    expect(
      formatReportLine({ ...base, kind: 'Service', status: 'skipped', reason: 'unsupported_resource' }),
    ).toBe('service "web" skipped');
  });
});
