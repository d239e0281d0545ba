import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { parseHostPort } from './control-plane-address.js';
import { endpointRows, formatEndpoints, formatNetIp } from './endpoints.js';
import { formatControllerMetrics, formatProxyMetrics, obfuscateMetrics } from './metrics.js';
import { parsePodRoute } from './pod-http.js';
import { parsePolicyTarget, parsePort } from './policy.js';
import { parseWorkloadRef, selectorString } from './workload-pods.js';

describe('diagnostics parsing', () => {
  it('parseWorkloadRef: TYPE/NAME, TYPE NAME and a bare pod name', () => {
    expect(parseWorkloadRef(['deploy/web'])).toMatchObject({ kind: { kind: 'Deployment' }, name: 'web' });
    expect(parseWorkloadRef(['sts', 'db'])).toMatchObject({ kind: { kind: 'StatefulSet' }, name: 'db' });
    expect(parseWorkloadRef(['web-0'])).toMatchObject({ kind: { kind: 'Pod' }, name: 'web-0' });
    expect(() => parseWorkloadRef(['svc/web'])).toThrow(/unknown resource type "svc"/);
    expect(() => parseWorkloadRef(['deploy/'])).toThrow(/names no single resource/);
  });

  it('selectorString: matchLabels, matchExpressions and plain maps', () => {
    expect(
      selectorString({
        matchLabels: { app: 'web' },
        matchExpressions: [
          { key: 'tier', operator: 'In', values: ['a', 'b'] },
          { key: 'canary', operator: 'DoesNotExist' },
        ],
      }),
    ).toBe('app=web,tier in (a,b),!canary');
    expect(selectorString({ app: 'web' })).toBe('app=web');
    expect(selectorString(undefined)).toBe('');
  });

  it('ports, routes, policy targets and HOST:PORT', () => {
    expect(parsePort('8080')).toBe(8080);
    expect(() => parsePort('0')).toThrow(/not a port number/);
    expect(() => parsePort('65536')).toThrow(/not a port number/);
    expect(parsePodRoute('direct')).toBe('direct');
    expect(() => parsePodRoute('ssh')).toThrow(/unknown route "ssh"/);
    expect(parsePolicyTarget('svc/web')).toEqual({ direction: 'outbound', service: 'web' });
    expect(parsePolicyTarget('web-0')).toEqual({ direction: 'inbound', pod: 'web-0' });
    expect(() => parsePolicyTarget('deploy/web')).toThrow(/"deploy\/web" is not a pod or a Service/);
    expect(parseHostPort('[::1]:8086', '--x')).toBe('[::1]:8086');
    expect(() => parseHostPort('localhost', '--x')).toThrow(
      /--x: "localhost" is not HOST:PORT|not HOST:PORT/,
    );
  });

  it('formatNetIp: every IPv4 address round-trips through its uint32', () => {
    fc.assert(
      fc.property(fc.ipV4(), (ip) => {
        const n = ip.split('.').reduce((acc, o) => acc * 256 + Number(o), 0);
        expect(formatNetIp({ ipv4: n })).toBe(ip);
      }),
    );
    expect(
      formatNetIp({ ipv6: { first: { low: 0, high: 0x20010db8 }, last: { low: 1, high: 0 } } as never }),
    ).toBe('2001:db8:0:0:0:0:0:1');
  });
});

describe('diagnostics output', () => {
  it('endpoint rows and linkerd-style table', () => {
    const rows = endpointRows({
      add: {
        metricLabels: { namespace: 'shop', service: 'web' },
        addrs: [
          { addr: { ip: { ipv4: 0xc6120001 }, port: 8080 }, metricLabels: { pod: 'web-0' } },
          { addr: { ip: { ipv4: 0xc6120002 }, port: 8080 }, metricLabels: { pod: 'shop/web-1' } },
        ],
      },
    });
    expect(formatEndpoints(rows, 'table')).toBe(
      [
        'NAMESPACE   IP           PORT   POD     SERVICE',
        'shop        198.18.0.1   8080   web-0   web.shop',
        'shop        198.18.0.2   8080   web-1   web.shop',
        '',
      ].join('\n'),
    );
    expect(endpointRows({ noEndpoints: { exists: true } })).toEqual([]);
  });

  it('metrics sections as linkerd prints them; --obfuscate hashes peer labels only', () => {
    const metrics = 'request_total{direction="outbound",authority="web.shop.svc.cluster.local:80"} 3\n';
    const proxy = formatProxyMetrics(
      [
        { pod: 'web-0', container: 'linkerd-proxy', metrics },
        { pod: 'web-1', container: '', error: 'pod not running (phase Pending)' },
      ],
      true,
    );
    expect(proxy).toMatch(
      /^#\n# POD web-0 \(1 of 2\)\n#\nrequest_total\{direction="outbound",authority="[0-9a-f]{10}"\} 3\n/,
    );
    expect(proxy).toContain('#\n# POD web-1 (2 of 2)\n#\n# ERROR pod not running (phase Pending)\n');
    expect(obfuscateMetrics('x{client_id="a",tls="true"} 1')).toMatch(
      /^x\{client_id="[0-9a-f]{10}",tls="true"\} 1$/,
    );
    expect(
      formatControllerMetrics([{ pod: 'linkerd-destination-0', container: 'destination', metrics }]),
    ).toBe(`#\n# POD linkerd-destination-0 (1 of 1)\n# CONTAINER destination \n#\n${metrics}`);
  });
});
