import { describe, expect, it } from 'vitest';
import { formatTapIp, toTapEventJson } from './tap-event-json.js';

describe('tap events as JSON', () => {
  it('formats addresses, ids, durations, headers and end of stream', () => {
    const labels = (ip: string) =>
      ip === '127.0.1.3' ? { pod: 'web-0', namespace: 'emojivoto' } : undefined;
    const req = toTapEventJson(
      {
        source: { ip: { ipv4: 0x7f000104 }, port: 4000 },
        destination: { ip: { ipv4: 0x7f000103 }, port: 8080 },
        destinationMeta: { labels: { tls: 'true' } },
        proxyDirection: 2,
        http: {
          requestInit: {
            id: { base: 3, stream: { low: 7, high: 0 } as unknown as number },
            method: { registered: 1 },
            scheme: { registered: 1 },
            authority: 'web',
            path: '/x',
            headers: {
              headers: [
                { name: 'a', value: Buffer.from('b') },
                { name: 'bin', value: Buffer.from([0xff, 0xfe]) },
              ],
            },
          },
        },
      },
      labels,
    );
    expect(req).toEqual({
      source: { ip: '127.0.1.4', port: 4000, metadata: {} },
      destination: {
        ip: '127.0.1.3',
        port: 8080,
        metadata: { pod: 'web-0', namespace: 'emojivoto', tls: 'true' },
      },
      routeMeta: {},
      proxyDirection: 'OUTBOUND',
      requestInitEvent: {
        id: { base: 3, stream: 7 },
        method: 'POST',
        scheme: 'HTTPS',
        authority: 'web',
        path: '/x',
        headers: [
          { name: 'a', valueStr: 'b' },
          { name: 'bin', valueBin: '//4=' },
        ],
      },
    });
    const end = toTapEventJson({
      proxyDirection: 1,
      http: {
        responseEnd: {
          id: { base: 3, stream: 7 },
          sinceRequestInit: { seconds: 1, nanos: 5 },
          eos: { grpcStatusCode: 0 },
          responseBytes: 12,
        },
      },
    });
    expect(end.responseEndEvent).toMatchObject({
      grpcStatusCode: 0,
      responseBytes: 12,
      sinceRequestInit: { seconds: 1, nanos: 5 },
    });
    expect(end.proxyDirection).toBe('INBOUND');
  });

  it('formats IPv6 in canonical compressed form', () => {
    const v6 = (first: bigint, last: bigint) =>
      formatTapIp({
        ipv6: { first: first.toString() as unknown as number, last: last.toString() as unknown as number },
      });
    expect(v6(0xff01000000000000n, 1n)).toBe('ff01::1');
    expect(v6(0n, 1n)).toBe('::1');
  });
});
