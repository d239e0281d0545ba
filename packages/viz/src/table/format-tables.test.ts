import { readFileSync, writeFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import type { Edge, StatRow } from '../metrics-api/index.js';
import { formatEdgesTable, formatRoutesTable, formatStatTable } from './index.js';

const golden = (name: string, text: string) => {
  const url = new URL(`../../test/golden/${name}`, import.meta.url);
  if (process.env.UPDATE_GOLDEN) writeFileSync(url, `${text}\n`);
  expect(`${text}\n`).toBe(readFileSync(url, 'utf8'));
};

const row = (name: string, over: Partial<StatRow> = {}): StatRow => ({
  namespace: 'emojivoto',
  type: 'deployment',
  name,
  meshedPods: 1,
  totalPods: 1,
  requests: 200,
  successes: 180,
  successRate: 0.9,
  rps: 20,
  latencyMsP50: 15,
  latencyMsP95: 19.5,
  latencyMsP99: 19.9,
  tlsShare: 1,
  tcpConnections: 2,
  tcpReadBytesPerSec: 2000,
  tcpWriteBytesPerSec: 4000,
  ...over,
});

const rows = [
  row('emoji', { successRate: 1, successes: 200 }),
  row('vote-bot', {
    requests: 0,
    successes: 0,
    successRate: undefined,
    rps: 0,
    latencyMsP50: undefined,
    latencyMsP95: undefined,
    latencyMsP99: undefined,
    tcpConnections: 0,
  }),
  row('voting', { successRate: 0.8489, rps: 1.93, latencyMsP99: 1234.4 }),
  row('web', { meshedPods: 1, totalPods: 2 }),
];

describe('tables in linkerd viz columns', () => {
  it('stat', () => golden('stat.txt', formatStatTable(rows)));
  it('stat -o wide -A', () =>
    golden('stat-wide-all.txt', formatStatTable(rows, { wide: true, allNamespaces: true })));
  it('routes', () =>
    golden(
      'routes.txt',
      formatRoutesTable([row('default', { type: 'route' }), row('probe', { type: 'route', successRate: 1 })]),
    ));
  it('edges and -o wide', () => {
    const id = (sa: string) => `${sa}.emojivoto.serviceaccount.identity.linkerd.cluster.local`;
    const edges: Edge[] = [
      {
        src: { namespace: 'emojivoto', name: 'web' },
        dst: { namespace: 'emojivoto', name: 'emoji' },
        clientId: id('web'),
        serverId: id('emoji'),
        secured: true,
        noTlsReason: '',
        requests: 10,
      },
      {
        src: { namespace: 'emojivoto', name: 'vote-bot' },
        dst: { namespace: 'emojivoto', name: 'web' },
        clientId: '',
        serverId: '',
        secured: false,
        noTlsReason: 'not_provided_by_service_discovery',
        requests: 3,
      },
    ];
    golden('edges.txt', formatEdgesTable(edges));
    golden('edges-wide.txt', formatEdgesTable(edges, { wide: true }));
  });
  it('says so when there is no traffic', () => {
    expect(formatStatTable([])).toBe('No traffic found.');
    expect(formatEdgesTable([])).toBe('No edges found.');
  });
});
