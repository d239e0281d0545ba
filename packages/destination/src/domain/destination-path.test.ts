import fc from 'fast-check';
import { describe, expect, test } from 'vitest';
import { MeshError } from '@tsmesh/core';
import { parseContextToken, parseDestinationPath, splitHostPort } from './destination-path.js';

const label = fc.stringMatching(/^[a-z0-9]([-a-z0-9]{0,20}[a-z0-9])?$/);

describe('parseDestinationPath', () => {
  test('service, pod-hostname and IP paths', () => {
    expect(parseDestinationPath('web.shop.svc.cluster.local:8080', 'cluster.local')).toEqual({
      kind: 'service',
      name: 'web',
      namespace: 'shop',
      port: 8080,
      hostname: undefined,
    });
    expect(parseDestinationPath('web-0.web.shop.svc.cluster.local', 'cluster.local')).toMatchObject({
      hostname: 'web-0',
      name: 'web',
      namespace: 'shop',
      port: 80,
    });
    expect(parseDestinationPath('web.shop.svc.example.org.:81', 'example.org')).toMatchObject({ port: 81 });
    expect(parseDestinationPath('198.18.0.1:9090', 'cluster.local')).toEqual({
      kind: 'ip',
      ip: '198.18.0.1',
      family: 4,
      port: 9090,
    });
    expect(parseDestinationPath('[2001:db8::1]:443', 'cluster.local')).toMatchObject({
      family: 6,
      port: 443,
    });
  });

  test.each([
    ['', 'empty'],
    ['web.shop:80', 'not a Kubernetes service name'],
    ['web.shop.svc.other.domain:80', 'not a Kubernetes service name'],
    ['a.b.c.d.svc.cluster.local:80', 'too many labels'],
    ['web.shop.svc.cluster.local:0', 'outside 1-65535'],
    ['web.shop.svc.cluster.local:99999', 'outside 1-65535'],
    ['web.shop.svc.cluster.local:http', 'not a number'],
    ['2001:db8::1:80', 'brackets'],
    ['[2001:db8::1', 'missing "]"'],
    ['we_b.shop.svc.cluster.local:80', 'not a DNS label'],
  ])('%j is refused: %s', (path, reason) => {
    const err = (() => {
      try {
        parseDestinationPath(path, 'cluster.local');
      } catch (e) {
        return e;
      }
    })();
    expect(err).toBeInstanceOf(MeshError);
    expect((err as MeshError).code).toBe('invalid_argument');
    expect((err as MeshError).message).toContain(reason);
  });

  test('property: service names round-trip', () => {
    fc.assert(
      fc.property(
        label,
        label,
        fc.option(label, { nil: undefined }),
        fc.integer({ min: 1, max: 65535 }),
        (name, ns, host, port) => {
          const fqdn = `${host ? `${host}.` : ''}${name}.${ns}.svc.cluster.local`;
          expect(parseDestinationPath(`${fqdn}:${port}`, 'cluster.local')).toEqual({
            kind: 'service',
            name,
            namespace: ns,
            port,
            hostname: host,
          });
        },
      ),
    );
  });

  test('property: any input either parses or throws an invalid_argument MeshError', () => {
    fc.assert(
      fc.property(fc.string({ maxLength: 80 }), (path) => {
        try {
          const target = parseDestinationPath(path, 'cluster.local');
          expect(target.port).toBeGreaterThanOrEqual(1);
          expect(target.port).toBeLessThanOrEqual(65535);
        } catch (err) {
          expect(MeshError.is(err) && err.code === 'invalid_argument').toBe(true);
        }
      }),
      { numRuns: 2000 },
    );
  });

  test('property: IPv4 addresses with ports', () => {
    fc.assert(
      fc.property(fc.ipV4(), fc.integer({ min: 1, max: 65535 }), (ip, port) => {
        expect(splitHostPort(`${ip}:${port}`)).toEqual({ host: ip, port });
      }),
    );
  });
});

describe('parseContextToken', () => {
  test('JSON, the old ns: form, and garbage', () => {
    expect(parseContextToken('{"ns":"shop","nodeName":"n1","pod":"web-0"}')).toMatchObject({
      ns: 'shop',
      nodeName: 'n1',
      pod: 'web-0',
    });
    expect(parseContextToken('ns:shop').ns).toBe('shop');
    const reasons: string[] = [];
    expect(parseContextToken('%%%', (r) => reasons.push(r)).ns).toBeUndefined();
    expect(reasons).toHaveLength(1);
  });
});
