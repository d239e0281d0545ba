import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { applyEndpointUpdate, EMPTY_ENDPOINT_SET, fromTcpAddress, toTcpAddress } from './index.js';

describe('endpoint set', () => {
  it('adds, removes and empties, keeping TLS identity, hints and labels', () => {
    const addr = toTcpAddress({ host: '198.18.0.7', port: 8080 });
    let set = applyEndpointUpdate(EMPTY_ENDPOINT_SET, {
      add: {
        metricLabels: { service: 'web', namespace: 'emojivoto' },
        addrs: [
          {
            addr,
            weight: 10_000,
            metricLabels: { pod: 'web-1' },
            tlsIdentity: {
              dnsLikeIdentity: { name: 'web.emojivoto.serviceaccount.identity.linkerd.cluster.local' },
            },
            protocolHint: { h2: {}, opaqueTransport: { inboundPort: 4143 } },
          },
        ],
      },
    });
    const ep = set.endpoints.get('198.18.0.7:8080');
    expect(ep?.identity).toBe('web.emojivoto.serviceaccount.identity.linkerd.cluster.local');
    expect(ep?.protocolHint).toBe('h2');
    expect(ep?.opaqueTransportPort).toBe(4143);
    expect(ep?.labels).toEqual({ service: 'web', namespace: 'emojivoto', pod: 'web-1' });
    set = applyEndpointUpdate(set, { remove: { addrs: [addr as never] } });
    expect(set.endpoints.size).toBe(0);
    expect(set.exists).toBe(true);
    expect(applyEndpointUpdate(set, { noEndpoints: { exists: false } }).exists).toBe(false);
  });

  it('property: TcpAddress round-trips IPv4 and IPv6', () => {
    fc.assert(
      fc.property(fc.oneof(fc.ipV4(), fc.ipV6()), fc.integer({ min: 1, max: 65535 }), (ip, port) => {
        const back = fromTcpAddress(toTcpAddress({ host: ip, port }));
        expect(back?.port).toBe(port);
        if (ip.includes(':')) {
          const norm = (s: string) => new URL(`http://[${s}]/`).hostname;
          expect(norm(back?.host ?? '')).toBe(norm(ip));
        } else expect(back?.host).toBe(ip);
      }),
    );
  });
});
