// Golden files: each manifest in input/ is injected with the test configuration and compared with
// expected/ (the output manifest as FILE.golden — a name prettier leaves alone — and a .report file
// with one line per object). Regenerate with
// TSMESH_UPDATE_GOLDEN=1 pnpm exec vitest run --project injector golden
// Every case also checks: the JSON patch turns the input into the output, injecting the output
// again changes nothing, and uninject gives the input back.
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { parseAllDocuments } from 'yaml';
import {
  applyJsonPatch,
  inject,
  transformManifests,
  uninject,
  type InjectorConfigInput,
  type InjectReportEntry,
  type NamespaceLike,
  type Workload,
} from '../../src/index.js';
import { testConfig } from '../test-config.js';

const dir = new URL('./', import.meta.url);
const update = process.env.TSMESH_UPDATE_GOLDEN === '1';

interface Case {
  file: string;
  config?: InjectorConfigInput;
  namespace?: NamespaceLike;
  /** The namespace's config annotations are copied onto the pod, so uninject cannot undo them. */
  roundTrip?: boolean;
  /** Inject without the linkerd.io/inject annotation (`tsmesh inject --manual`). */
  manual?: boolean;
}

const cases: Case[] = [
  { file: 'pod.yaml' },
  { file: 'deployment.yaml' },
  { file: 'deployment.json' },
  { file: 'statefulset.yaml' },
  { file: 'daemonset.yaml' },
  { file: 'job.yaml' },
  { file: 'cronjob.yaml' },
  { file: 'replicaset.yaml' },
  { file: 'replicationcontroller.yaml' },
  { file: 'list.yaml' },
  { file: 'multi-document.yaml' },
  { file: 'overrides.yaml' },
  { file: 'regular-sidecar.yaml' },
  { file: 'regular-sidecar-no-await.yaml' },
  { file: 'wait-before-exit.yaml' },
  { file: 'ingress.yaml' },
  { file: 'skipped.yaml' },
  { file: 'cni.yaml', config: { cniEnabled: true } },
  {
    file: 'control-plane.yaml',
    config: {
      proxy: { capabilities: { drop: ['ALL'] }, loadTrustBundleFromConfigMap: true },
      proxyInit: { capabilities: { add: ['NET_BIND_SERVICE'], drop: ['ALL'] } },
    },
    manual: true,
  },
  {
    file: 'namespace-inherited.yaml',
    namespace: {
      metadata: {
        name: 'team-a',
        annotations: { 'linkerd.io/inject': 'enabled', 'config.linkerd.io/proxy-log-level': 'debug' },
      },
    },
    roundTrip: false,
  },
];

export function formatReport(entries: readonly InjectReportEntry[]): string {
  return entries
    .map((e) => {
      const why = e.reason ? ` (${e.reason})` : e.status === 'failed' ? `: ${e.message}` : '';
      const head = `${e.kind} ${e.namespace ?? '-'}/${e.name}: ${e.status}${why}`;
      return [head, ...e.warnings.map((w) => `  warning: ${w}`)].join('\n');
    })
    .join('\n')
    .concat('\n');
}

function objectsOf(text: string, json: boolean): Workload[] {
  if (json) {
    const v = JSON.parse(text) as unknown;
    return (Array.isArray(v) ? v : [v]) as Workload[];
  }
  return parseAllDocuments(text)
    .map((d) => d.toJS() as Workload | null)
    .filter((o): o is Workload => o !== null);
}

function golden(name: string, actual: string): void {
  const path = new URL(`expected/${name}`, dir);
  if (update || !existsSync(path)) writeFileSync(path, actual);
  expect(actual).toBe(readFileSync(path, 'utf8'));
}

describe('injector golden files', () => {
  for (const c of cases) {
    it(c.file, () => {
      const config = testConfig(c.config);
      const input = readFileSync(new URL(`input/${c.file}`, dir), 'utf8');
      const json = c.file.endsWith('.json');
      const options = { requireAnnotation: !c.manual };
      const result = transformManifests(input, (o) => inject(o, config, c.namespace, options), {
        source: c.file,
      });
      golden(`${c.file}.golden`, result.text);
      golden(`${c.file}.report`, formatReport(result.entries));

      const before = objectsOf(input, json);
      const after = objectsOf(result.text, json);
      expect(after).toHaveLength(before.length);
      before.forEach((object, i) => {
        const one = inject(object, config, c.namespace, options);
        expect(one.object).toEqual(after[i]);
        expect(applyJsonPatch(object, one.patch)).toEqual(one.object);
        // Idempotent: the injected object is reported and left alone.
        const again = inject(one.object, config, c.namespace, options);
        expect(again.patch).toEqual([]);
        expect(again.object).toEqual(one.object);
        if (c.roundTrip !== false) expect(uninject(one.object).object).toEqual(object);
      });
      // Injecting the output text again writes it back unchanged.
      const twice = transformManifests(result.text, (o) => inject(o, config, c.namespace, options));
      expect(twice.text).toBe(result.text);
    });
  }
});
