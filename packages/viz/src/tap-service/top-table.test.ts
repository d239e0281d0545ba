import { describe, expect, it } from 'vitest';
import type { TapEventJson } from './tap-event-json.js';
import { createTopTable, formatTopLatency, formatTopTable } from './top-table.js';

const ends = (ms: number) => ({ seconds: Math.floor(ms / 1000), nanos: (ms % 1000) * 1e6 });

function request(stream: number, path: string, status: number, ms: number, grpc?: number): TapEventJson[] {
  const base = {
    source: { ip: '127.0.1.4', port: 5000, metadata: { pod: 'vote-bot-1' } },
    destination: { ip: '127.0.1.3', port: 8080, metadata: { pod: 'web-1' } },
    routeMeta: {},
    proxyDirection: 'INBOUND' as const,
  };
  const id = { base: 1, stream };
  return [
    { ...base, requestInitEvent: { id, method: 'GET', scheme: 'HTTP', authority: 'web', path, headers: [] } },
    { ...base, responseInitEvent: { id, sinceRequestInit: ends(ms), httpStatus: status, headers: [] } },
    {
      ...base,
      responseEndEvent: {
        id,
        sinceRequestInit: ends(ms),
        sinceResponseInit: ends(0),
        responseBytes: 10,
        trailers: [],
        ...(grpc !== undefined ? { grpcStatusCode: grpc } : {}),
      },
    },
  ];
}

describe('top table', () => {
  it('counts ended requests per source, destination, method and path, most requested first', () => {
    const t = createTopTable();
    for (const e of [
      ...request(1, '/a', 200, 5),
      ...request(2, '/b', 200, 1),
      ...request(3, '/b', 500, 20),
      ...request(4, '/b', 200, 3, 14), // gRPC Unavailable: a failure
      ...request(5, '/c', 200, 2).slice(0, 2), // not ended: not counted
    ])
      t.insert(e);
    const rows = t.rows();
    expect(rows.map((r) => [r.path, r.count, r.successes, r.failures, r.best, r.worst, r.last])).toEqual([
      ['/b', 3, 1, 2, 1, 20, 3],
      ['/a', 1, 1, 0, 5, 5, 5],
    ]);
    const text = formatTopTable(rows).split('\n');
    expect(text[0]).toMatch(
      /^Source\s+Destination\s+Method\s+Path\s+Count\s+Best\s+Worst\s+Last\s+Success Rate$/,
    );
    expect(text[1]).toMatch(/^vote-bot-1\s+web-1\s+GET\s+\/b\s+3\s+1ms\s+20ms\s+3ms\s+33\.33%$/);
    expect(formatTopTable(rows, { hideSources: true }).split('\n')[0]).toMatch(/^Destination/);
  });

  it('formats latencies as linkerd rounds them', () => {
    expect(formatTopLatency(0.25)).toBe('250µs');
    expect(formatTopLatency(12.4)).toBe('12ms');
    expect(formatTopLatency(2500)).toBe('3s');
  });
});
