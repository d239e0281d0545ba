import type { tap } from '@tsmesh/core';
import { describe, expect, it } from 'vitest';
import { toProtoIp } from '../inbound-policy/index.js';
import { createTapHub, tapMatches, type TapRequestInfo } from './index.js';

const request: TapRequestInfo = {
  direction: 'inbound',
  source: { ip: '198.18.0.7', port: 40000 },
  destination: { ip: '127.0.0.1', port: 8080 },
  method: 'GET',
  scheme: 'http',
  authority: 'web.default.svc.cluster.local:8080',
  path: '/books/1',
  headers: { 'user-agent': 'curl' },
  routeLabels: { route: 'books' },
};

describe('tap matching', () => {
  it('evaluates Linkerd match expressions', () => {
    expect(tapMatches(undefined, request)).toBe(true);
    expect(tapMatches({ http: { path: { prefix: '/books' } } }, request)).toBe(true);
    expect(tapMatches({ http: { path: { exact: '/books' } } }, request)).toBe(false);
    expect(tapMatches({ http: { method: { registered: 0 } } }, request)).toBe(true);
    expect(tapMatches({ source: { netmask: { ip: toProtoIp('198.18.0.0'), mask: 15 } } }, request)).toBe(
      true,
    );
    expect(tapMatches({ source: { netmask: { ip: toProtoIp('10.0.0.0'), mask: 8 } } }, request)).toBe(false);
    expect(tapMatches({ destination: { ports: { min: 8000, max: 9000 } } }, request)).toBe(true);
    expect(
      tapMatches(
        {
          all: {
            matches: [
              { routeLabel: { key: 'route', value: 'books' } },
              { not: { http: { authority: { prefix: 'x' } } } },
            ],
          },
        },
        request,
      ),
    ).toBe(true);
    expect(tapMatches({ any: { matches: [] } }, request)).toBe(false);
  });
});

describe('tap hub', () => {
  it('is inactive without taps, emits init/response events up to the limit, then finishes', () => {
    const hub = createTapHub();
    expect(hub.active).toBe(false);
    expect(hub.start(request)).toBeUndefined();
    const events: tap.TapEvent.$Properties[] = [];
    let finished = false;
    hub.observe({ limit: 1 }, { send: (e) => (events.push(e), true), finish: () => (finished = true) });
    expect(hub.active).toBe(true);
    const h = hub.start(request);
    expect(hub.start(request)).toBeUndefined(); // limit reached
    h?.end({ statusCode: 200, grpcStatus: undefined, error: undefined });
    expect(events.map((e) => Object.keys(e.http ?? {})[0])).toEqual([
      'requestInit',
      'responseInit',
      'responseEnd',
    ]);
    expect(events[0]?.http?.requestInit?.path).toBe('/books/1');
    expect(finished).toBe(true);
    expect(hub.active).toBe(false);
  });

  it('counts events a slow consumer could not take', () => {
    const hub = createTapHub();
    const remove = hub.observe({ limit: 10 }, { send: () => false, finish: () => undefined });
    hub.start(request)?.end({ statusCode: 200, grpcStatus: undefined, error: undefined });
    expect(hub.dropped).toBe(3);
    remove();
    expect(hub.active).toBe(false);
  });
});
