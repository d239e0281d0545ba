import { describe, expect, test } from 'vitest';
import { destination } from '@tsmesh/core';
import type { EndpointAddress, PodEndpointInfo } from '../domain/index.js';
import { EndpointUpdates, type EndpointView } from './endpoint-updates.js';
import { toDestinationProfile } from './profile-translator.js';
import { DEFAULT_MESHED_HTTP2, toWeightedAddr, type EndpointTranslation } from './weighted-addr.js';

const t: EndpointTranslation = {
  controlPlaneNamespace: 'linkerd',
  trustDomain: 'cluster.local',
  enableH2Upgrade: true,
  forceOpaqueTransport: false,
  meshedHttp2: DEFAULT_MESHED_HTTP2,
};

const podInfo = (over: Partial<PodEndpointInfo> = {}): PodEndpointInfo => ({
  name: 'web-abc',
  namespace: 'shop',
  serviceAccount: 'web',
  ownerKind: 'deployment',
  ownerName: 'web',
  controlPlaneNamespace: 'linkerd',
  podTemplateHash: 'abc',
  opaque: false,
  skippedInbound: false,
  proxyMetaPort: false,
  inboundPort: 4143,
  ...over,
});

const addr = (ip: string, pod?: PodEndpointInfo, zone?: string): EndpointAddress => ({
  ip,
  port: 8080,
  zone,
  pod,
});

describe('toWeightedAddr', () => {
  test('a meshed pod: labels, identity, H2, keep-alive', () => {
    const wa = toWeightedAddr(addr('198.18.0.1', podInfo(), 'z1'), t, 'z1')!;
    expect(wa.weight).toBe(10000);
    expect(wa.metricLabels).toEqual({
      pod: 'web-abc',
      deployment: 'web',
      serviceaccount: 'web',
      control_plane_ns: 'linkerd',
      pod_template_hash: 'abc',
      zone: 'z1',
      zone_locality: 'local',
    });
    expect(wa.tlsIdentity).toEqual({
      dnsLikeIdentity: { name: 'web.shop.serviceaccount.identity.linkerd.cluster.local' },
      serverName: { name: 'web.shop.serviceaccount.identity.linkerd.cluster.local' },
    });
    expect(wa.protocolHint).toEqual({ h2: {} });
    expect(wa.http2).toBe(DEFAULT_MESHED_HTTP2);
    // Encodes as the proxy API's bytes.
    const bytes = destination.WeightedAddr.encode(wa).finish();
    expect(destination.WeightedAddr.decode(bytes).addr?.ip?.ipv4).toBe(0xc6120001);
  });

  test("a linked cluster's gateway: its identity, the remote authority, H2 when upgrading", () => {
    const gwId = 'linkerd-gateway.linkerd-multicluster.serviceaccount.identity.linkerd.cluster.local';
    const gateway = { identity: gwId, authorityOverride: 'web.shop.svc.cluster.local:80' };
    const wa = toWeightedAddr({ ...addr('198.18.255.1'), port: 4143, gateway }, t, undefined)!;
    expect(wa.tlsIdentity).toEqual({ dnsLikeIdentity: { name: gwId }, serverName: { name: gwId } });
    expect(wa.authorityOverride).toEqual({ authorityOverride: 'web.shop.svc.cluster.local:80' });
    expect(wa.protocolHint).toEqual({ h2: {} });
    const bytes = destination.WeightedAddr.encode(wa).finish();
    expect(destination.WeightedAddr.decode(bytes).authorityOverride?.authorityOverride).toBe(
      'web.shop.svc.cluster.local:80',
    );
    const noUpgrade = toWeightedAddr(
      { ...addr('198.18.255.1'), gateway },
      { ...t, enableH2Upgrade: false },
      undefined,
    )!;
    expect(noUpgrade.protocolHint).toBeUndefined();
    // A plain address without a gateway stays plain.
    expect(toWeightedAddr(addr('198.18.0.9'), t, undefined)!.tlsIdentity).toBeUndefined();
  });

  test('opaque, skipped, foreign control plane, unmeshed, IPv6, jobs', () => {
    expect(toWeightedAddr(addr('198.18.0.1', podInfo({ opaque: true })), t, undefined)!.protocolHint).toEqual(
      {
        opaque: {},
        opaqueTransport: { inboundPort: 4143 },
      },
    );
    const skipped = toWeightedAddr(addr('198.18.0.1', podInfo({ skippedInbound: true })), t, undefined)!;
    expect(skipped.tlsIdentity).toBeUndefined();
    expect(skipped.protocolHint).toBeUndefined();
    const foreign = toWeightedAddr(addr('198.18.0.1', podInfo({ controlPlaneNamespace: 'other' })), t, 'z')!;
    expect(foreign.tlsIdentity).toBeUndefined();
    expect(foreign.protocolHint).toEqual({ h2: {} });
    expect(foreign.metricLabels?.zone_locality).toBe('unknown');
    const plain = toWeightedAddr(
      addr('198.18.0.1', podInfo({ controlPlaneNamespace: undefined, ownerKind: 'job', ownerName: 'j' })),
      t,
      undefined,
    )!;
    expect(plain.protocolHint).toBeUndefined();
    expect(plain.metricLabels).toMatchObject({ k8s_job: 'j' });
    const v6 = toWeightedAddr(addr('2001:db8::1'), t, undefined)!;
    const decoded = destination.WeightedAddr.decode(destination.WeightedAddr.encode(v6).finish());
    expect(decoded.addr?.ip?.ipv6?.first?.toString(16)).toBe('20010db800000000');
    expect(decoded.addr?.ip?.ipv6?.last?.toString()).toBe('1');
  });
});

describe('EndpointUpdates', () => {
  const view = (exists: boolean, ...addresses: EndpointAddress[]): EndpointView => ({
    exists,
    addresses: new Map(addresses.map((a) => [`${a.ip}:${a.port}`, a])),
    labels: { namespace: 'shop', service: 'web' },
  });

  test('snapshot, then differences; empty means NoEndpoints', () => {
    const u = new EndpointUpdates(t, undefined);
    expect(u.next(view(true))).toEqual([{ noEndpoints: { exists: true } }]);
    const a = addr('198.18.0.1', podInfo());
    const b = addr('198.18.0.2', podInfo());
    const first = u.next(view(true, a, b));
    expect(first).toHaveLength(1);
    expect(first[0]!.add?.addrs).toHaveLength(2);
    expect(first[0]!.add?.metricLabels).toEqual({ namespace: 'shop', service: 'web' });
    expect(u.next(view(true, a, b))).toEqual([]);
    // b changes (becomes opaque): re-added; a removed.
    const b2 = addr('198.18.0.2', podInfo({ opaque: true }));
    const next = u.next(view(true, b2));
    expect(next.map((m) => Object.keys(m)[0])).toEqual(['remove', 'add']);
    expect(next[0]!.remove?.addrs).toEqual([{ ip: { ipv4: 0xc6120001 }, port: 8080 }]);
    expect(u.next(view(true))).toEqual([{ noEndpoints: { exists: true } }]);
    expect(u.next(view(false))).toEqual([{ noEndpoints: { exists: false } }]);
    expect(u.next(view(false))).toEqual([]);
  });
});

describe('toDestinationProfile', () => {
  test('defaults and a profile', () => {
    const base = {
      fullyQualifiedName: 'web.shop.svc.cluster.local',
      port: 80,
      service: { name: 'web', namespace: 'shop' },
      opaqueProtocol: false,
      endpoint: undefined,
    };
    const def = toDestinationProfile({ ...base, profile: undefined });
    expect(def).toMatchObject({
      routes: [],
      dstOverrides: [],
      retryBudget: { retryRatio: 0.2, minRetriesPerSecond: 10, ttl: { seconds: 10 } },
    });
    expect(def.profileRef).toBeUndefined();
    const p = toDestinationProfile({
      ...base,
      profile: {
        name: 'web.shop.svc.cluster.local',
        namespace: 'shop',
        spec: {
          routes: [
            {
              name: 'r',
              condition: { not: { method: 'FOO' } },
              responseClasses: [{ condition: { status: { min: 500, max: 0 } }, isFailure: true }],
              isRetryable: false,
              timeoutMs: 1500,
            },
          ],
          retryBudget: undefined,
          dstOverrides: [
            { authority: 'web-v2.shop.svc.cluster.local', weight: 10000 },
            { authority: '[2001:db8::1]:81', weight: 1 },
          ],
        },
      },
    });
    expect(p.routes![0]).toMatchObject({
      condition: { not: { method: { unregistered: 'FOO' } } },
      timeout: { seconds: 1, nanos: 500_000_000 },
    });
    expect(p.dstOverrides!.map((d) => d.authority)).toEqual([
      'web-v2.shop.svc.cluster.local:80',
      '[2001:db8::1]:81',
    ]);
    expect(
      destination.DestinationProfile.decode(destination.DestinationProfile.encode(p).finish()).routes,
    ).toHaveLength(1);
  });
});
