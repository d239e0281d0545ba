import { describe, expect, it } from 'vitest';
import { ProxyError } from '../errors/index.js';
import { checkGatewayLoop, forwardedBy, forwardedElement, gatewayTarget } from './gateway-rules.js';

const SUFFIXES = ['svc.cluster.local'];
const GW = 'linkerd-gateway.linkerd-multicluster.serviceaccount.identity.linkerd.cluster.local';
const CLIENT = 'web.shop.serviceaccount.identity.linkerd.cluster.local';

describe('gatewayTarget', () => {
  it('accepts names under the suffixes, with or without a trailing dot, default port 80', () => {
    expect(gatewayTarget('api.shop.svc.cluster.local.:8080', SUFFIXES)).toEqual({
      name: 'api.shop.svc.cluster.local',
      port: 8080,
      authority: 'api.shop.svc.cluster.local:8080',
    });
    expect(gatewayTarget('API.shop.svc.cluster.local', SUFFIXES)).toMatchObject({ port: 80 });
  });

  it('accepts any name under the root suffix (.), still not addresses', () => {
    expect(gatewayTarget('example.com:443', [''])).toMatchObject({ name: 'example.com', port: 443 });
    expect(ProxyError.is(gatewayTarget('198.18.0.4:80', ['']))).toBe(true);
  });

  it.each(['api.shop.svc.other.local:80', 'example.com', '198.18.0.4:80', '[::1]:80', '', 'cluster.local'])(
    'refuses %j as gateway domain invalid (404)',
    (authority) => {
      const r = gatewayTarget(authority, SUFFIXES);
      expect(ProxyError.is(r)).toBe(true);
      expect(r).toMatchObject({ code: 'GATEWAY_DOMAIN_INVALID', httpStatus: 404 });
    },
  );
});

describe('loops and Forwarded', () => {
  it('reads by= from every element of every value', () => {
    expect(forwardedBy(['for=1.2.3.4;by=a', 'by="b";for=x, by=c'])).toEqual(['a', 'b', 'c']);
    expect(forwardedBy(undefined)).toEqual([]);
  });

  it('refuses the gateway itself as client and a request it already forwarded (508)', () => {
    expect(checkGatewayLoop(GW, GW, undefined)).toMatchObject({ code: 'GATEWAY_LOOP', httpStatus: 508 });
    const fwd = forwardedElement(GW, CLIENT, { name: 'a', port: 80, authority: 'a:80' });
    expect(checkGatewayLoop(GW, CLIENT, fwd)).toMatchObject({ code: 'GATEWAY_LOOP' });
    expect(checkGatewayLoop(GW, CLIENT, 'by=other-gateway;for=x')).toBeUndefined();
  });

  it('writes Linkerd-shaped Forwarded elements', () => {
    expect(
      forwardedElement(GW, CLIENT, {
        name: 'a.b.svc.cluster.local',
        port: 80,
        authority: 'a.b.svc.cluster.local:80',
      }),
    ).toBe(`by=${GW};for=${CLIENT};host=a.b.svc.cluster.local:80;proto=https`);
  });
});
