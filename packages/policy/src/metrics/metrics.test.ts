import { Registry } from 'prom-client';
import { expect, it } from 'vitest';
import { createMemoryObjectSource } from '../indexing/index.js';
import { startPolicyService } from '../runtime/index.js';

it('two controllers can share one registry (metrics registered once)', async () => {
  const registry = new Registry();
  const source = createMemoryObjectSource();
  const a = await startPolicyService({ source, port: 0, registry });
  const b = await startPolicyService({ source, port: 0, registry });
  expect(await registry.getSingleMetricAsString('policy_index_rebuilds_total')).toContain(
    'policy_index_rebuilds_total 2',
  );
  await a.close();
  await b.close();
  await source.close();
});
