import { describe, expect, it } from 'vitest';
import { applyTapEvent, durationMs, type TapEvent, type TapRow } from './tap-rows.js';

const source = { ip: '127.0.1.4', port: 51234, metadata: { deployment: 'vote-bot' } };
const destination = { ip: '127.0.1.2', port: 8080, metadata: { deployment: 'web', tls: 'true' } };
const id = { base: 1, stream: 7 };

describe('tap rows', () => {
  it('folds request, response and end events of one request into one row', () => {
    const events: TapEvent[] = [
      {
        source,
        destination,
        proxyDirection: 'INBOUND',
        requestInitEvent: { id, method: 'GET', authority: 'web:8080', path: '/api/list' },
      },
      {
        source,
        destination,
        proxyDirection: 'INBOUND',
        responseInitEvent: { id, httpStatus: 200, sinceRequestInit: { nanos: 1_500_000 } },
      },
      {
        source,
        destination,
        proxyDirection: 'INBOUND',
        responseEndEvent: { id, sinceRequestInit: { seconds: '0', nanos: 2_000_000 }, responseBytes: '42' },
      },
    ];
    const rows = events.reduce<TapRow[]>((acc, e) => applyTapEvent(acc, e), []);
    expect(rows).toEqual([
      {
        key: expect.any(String),
        direction: 'inbound',
        source: 'vote-bot',
        destination: 'web',
        tls: 'true',
        method: 'GET',
        authority: 'web:8080',
        path: '/api/list',
        status: 200,
        latencyMs: 2,
        grpcStatus: undefined,
        bytes: 42,
        done: true,
      },
    ]);
  });

  it('keeps the newest requests first, bounded', () => {
    let rows = applyTapEvent([], { source, requestInitEvent: { id: { base: 1, stream: 1 }, path: '/a' } }, 2);
    rows = applyTapEvent(rows, { source, requestInitEvent: { id: { base: 1, stream: 2 }, path: '/b' } }, 2);
    rows = applyTapEvent(rows, { source, requestInitEvent: { id: { base: 1, stream: 3 }, path: '/c' } }, 2);
    expect(rows.map((r) => r.path)).toEqual(['/c', '/b']);
    // A response for a request no longer shown changes nothing.
    expect(
      applyTapEvent(rows, { source, responseInitEvent: { id: { base: 1, stream: 1 }, httpStatus: 500 } }, 2),
    ).toEqual(rows);
    expect(durationMs({ seconds: 2, nanos: 500_000 })).toBe(2000.5);
  });
});
