import { describe, expect, it } from 'vitest';
import { MeshError } from '@tsmesh/core';
import { matchesKeyPattern, parseLink } from './link-spec.js';

const base = {
  metadata: { name: 'east', namespace: 'linkerd-multicluster' },
  spec: { targetClusterName: 'east', clusterCredentialsSecret: 'cluster-credentials-east' },
};

function error(spec: Record<string, unknown>): MeshError {
  try {
    parseLink({ ...base, spec: { ...base.spec, ...spec } });
  } catch (err) {
    if (MeshError.is(err)) return err;
    throw err;
  }
  throw new Error('parsed');
}

describe('parseLink', () => {
  it("fills in Linkerd's defaults; absent selectors select nothing", () => {
    const link = parseLink(base);
    expect(link).toMatchObject({
      name: 'east',
      namespace: 'linkerd-multicluster',
      targetClusterDomain: 'cluster.local',
      targetClusterLinkerdNamespace: 'linkerd',
      gatewayAddresses: [],
      gatewayPort: undefined,
      gatewayIdentity: '',
      probeSpec: { path: '/ready', port: 4191, periodMs: 3000, timeoutMs: 30_000, failureThreshold: 3 },
      selector: undefined,
      remoteDiscoverySelector: undefined,
      federatedServiceSelector: undefined,
    });
    expect(Object.isFrozen(link)).toBe(true);
  });

  it('reads every field of v1alpha3', () => {
    const link = parseLink({
      ...base,
      spec: {
        ...base.spec,
        targetClusterDomain: 'east.example',
        targetClusterLinkerdNamespace: 'mesh',
        gatewayAddress: 'gw.example.com, 198.18.0.7',
        gatewayPort: '4143',
        gatewayIdentity: 'linkerd-gateway.linkerd-multicluster.serviceaccount.identity.linkerd.cluster.local',
        probeSpec: { path: '/live', port: '4192', period: '5s', timeout: '2s', failureThreshold: '1' },
        selector: { matchLabels: { 'mirror.linkerd.io/exported': 'true' } },
        remoteDiscoverySelector: {
          matchExpressions: [
            { key: 'mirror.linkerd.io/exported', operator: 'In', values: ['remote-discovery'] },
          ],
        },
        federatedServiceSelector: { matchLabels: { 'mirror.linkerd.io/federated': 'member' } },
        excludedLabels: ['example.com/*'],
        excludedAnnotations: ['note'],
      },
    });
    expect(link.gatewayAddresses).toEqual(['gw.example.com', '198.18.0.7']);
    expect(link.gatewayPort).toBe(4143);
    expect(link.probeSpec).toEqual({
      path: '/live',
      port: 4192,
      periodMs: 5000,
      timeoutMs: 2000,
      failureThreshold: 1,
    });
    expect(link.remoteDiscoverySelector?.matchExpressions[0]?.operator).toBe('In');
    expect(link.excludedLabels).toEqual(['example.com/*']);
  });

  it('refuses what cannot work, naming the field', () => {
    expect(error({ targetClusterName: '' }).where).toBe(
      'Link linkerd-multicluster/east: spec.targetClusterName',
    );
    expect(error({ targetClusterName: 'East_1' }).message).toContain('is not a DNS label');
    expect(error({ clusterCredentialsSecret: undefined }).where).toContain('clusterCredentialsSecret');
    expect(error({ gatewayAddress: '198.18.0.1', gatewayPort: '70000' }).where).toContain('gatewayPort');
    expect(error({ probeSpec: { period: 'soon' } }).where).toContain('probeSpec.period');
    expect(error({ probeSpec: { failureThreshold: '0' } }).where).toContain('failureThreshold');
    expect(error({ probeSpec: { path: 'ready' } }).where).toContain('probeSpec.path');
    expect(error({ selector: { matchExpressions: [{ key: 'a', operator: 'Near' }] } }).where).toContain(
      'selector',
    );
    expect(error({ excludedLabels: 'a' }).where).toContain('excludedLabels');
    expect(() => parseLink({ metadata: { name: 'x', namespace: 'y' } })).toThrow(/is missing/);
  });

  it('matches excluded keys exactly or by wildcard', () => {
    expect(matchesKeyPattern('example.com/team', ['example.com/*'])).toBe(true);
    expect(matchesKeyPattern('example.com.evil/team', ['example.com/*'])).toBe(false);
    expect(matchesKeyPattern('note', ['note'])).toBe(true);
    expect(matchesKeyPattern('notes', ['note'])).toBe(false);
  });
});
