// charts/tsmesh-multicluster is what generateMulticlusterChart() writes (regenerate with
// TSMESH_UPDATE_GOLDEN=1), `helm lint --strict` is clean, and `helm template` (the real helm,
// built by @tsmesh/testenv) renders what `tsmesh multicluster install` prints.
import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { beforeAll, describe, expect, it } from 'vitest';
import { parseAllDocuments } from 'yaml';
import { ensureBinaries } from '@tsmesh/testenv';
import { generateMulticlusterChart, MULTICLUSTER_CHART } from './helm-chart.js';
import { renderInstall } from './multicluster-manifests.js';

const chartsDir = fileURLToPath(new URL('../../../../charts/', import.meta.url));
const chartDir = join(chartsDir, MULTICLUSTER_CHART);
const update = process.env.TSMESH_UPDATE_GOLDEN === '1';
let helm: string;

beforeAll(async () => {
  helm = (await ensureBinaries({ components: ['helm'] })).helm;
}, 45 * 60_000);

function filesUnder(dir: string, prefix = ''): string[] {
  if (!existsSync(dir)) return [];
  return readdirSync(dir, { withFileTypes: true }).flatMap((e) =>
    e.isDirectory() ? filesUnder(join(dir, e.name), `${prefix}${e.name}/`) : [`${prefix}${e.name}`],
  );
}

type Obj = { kind: string; metadata: { name: string } };
// Helm renders in its own install order (by kind); compare as sets.
const sorted = (list: Obj[]) =>
  [...list].sort((a, b) => `${a.kind}/${a.metadata.name}`.localeCompare(`${b.kind}/${b.metadata.name}`));
const objects = (text: string) =>
  sorted(
    parseAllDocuments(text)
      .map((d) => d.toJS() as Obj | null)
      .filter((o) => o !== null),
  );

describe('charts/tsmesh-multicluster', () => {
  it('is what the generator writes', () => {
    const generated = generateMulticlusterChart();
    if (update) {
      rmSync(chartDir, { recursive: true, force: true });
      for (const [path, text] of generated) {
        mkdirSync(dirname(join(chartsDir, path)), { recursive: true });
        writeFileSync(join(chartsDir, path), text);
      }
    }
    const onDisk = filesUnder(chartDir)
      .map((f) => `${MULTICLUSTER_CHART}/${f}`)
      .sort();
    expect(onDisk).toEqual([...generated.keys()].sort());
    for (const [path, text] of generated) expect(readFileSync(join(chartsDir, path), 'utf8')).toBe(text);
  });

  it('passes helm lint', () => {
    const out = execFileSync(helm, ['lint', '--strict', chartDir], { encoding: 'utf8' });
    expect(out).toContain('0 chart(s) failed');
  });

  it('helm template renders what tsmesh multicluster install prints', () => {
    const template = (...args: string[]) =>
      objects(
        execFileSync(helm, ['template', 'mc', chartDir, '--namespace', 'linkerd-multicluster', ...args], {
          encoding: 'utf8',
        }),
      );
    const cli = (o: Parameters<typeof renderInstall>[0] = {}) =>
      sorted(JSON.parse(JSON.stringify(renderInstall(o).filter((x) => x.kind !== 'Namespace'))) as Obj[]);
    expect(template()).toEqual(cli());
    expect(
      template(
        '--set',
        'gateway.enabled=false,identityTrustDomain=west.example,remoteMirrorServiceAccountName=from-east',
      ),
    ).toEqual(
      cli({
        gateway: false,
        identityTrustDomain: 'west.example',
        remoteMirrorServiceAccounts: ['from-east'],
      }),
    );
    expect(
      template('--set', 'gateway.port=4200,gateway.probe.seconds=5,gateway.serviceType=NodePort'),
    ).toEqual(cli({ gatewayPort: 4200, gatewayProbeSeconds: 5, gatewayServiceType: 'NodePort' }));
  });
});
