import { describe, expect, it } from 'vitest';
import { createEnvSource, readProxyConfig, TsmeshProxyEnv } from './index.js';

const read = (env: Record<string, string>) => readProxyConfig(createEnvSource(env));

describe('inbound policy, access log and client address settings', () => {
  it('defaults to all-unauthenticated, no access log, X-Forwarded-For', () => {
    const c = read({});
    expect(c.inboundPolicy.defaultPolicy).toBe('all-unauthenticated');
    expect(c.inboundPolicy.clusterNetworks).toContain('10.0.0.0/8');
    expect(c.accessLog).toBeUndefined();
    expect(c.clientAddress.forwarded).toBe('xff');
    expect(c.clientAddress.proxyProtocolPorts.has(5432)).toBe(false);
  });

  it('reads Linkerd and tsmesh variables', () => {
    const c = read({
      LINKERD2_PROXY_INBOUND_DEFAULT_POLICY: 'cluster-authenticated',
      LINKERD2_PROXY_POLICY_CLUSTER_NETWORKS: '127.0.0.0/8,::1/128',
      LINKERD2_PROXY_POLICY_WORKLOAD: '{"ns":"emojivoto","pod":"web-1"}',
      LINKERD2_PROXY_ACCESS_LOG: 'json',
      [TsmeshProxyEnv.InboundForwarded]: 'both',
      [TsmeshProxyEnv.InboundProxyProtocolPorts]: '5432,9000-9001',
    });
    expect(c.inboundPolicy).toEqual({
      defaultPolicy: 'cluster-authenticated',
      clusterNetworks: ['127.0.0.0/8', '::1/128'],
      workload: '{"ns":"emojivoto","pod":"web-1"}',
    });
    expect(c.accessLog).toBe('json');
    expect(c.clientAddress.forwarded).toBe('both');
    expect(c.clientAddress.proxyProtocolPorts.has(9001)).toBe(true);
  });

  it('names the variable and what it accepts', () => {
    const failure = (env: Record<string, string>) => {
      try {
        read(env);
      } catch (err) {
        const e = err as { where?: string; hint?: string };
        return `${e.where} ${e.hint}`;
      }
      return 'no error';
    };
    expect(failure({ LINKERD2_PROXY_INBOUND_DEFAULT_POLICY: 'open' })).toMatch(
      /^LINKERD2_PROXY_INBOUND_DEFAULT_POLICY .*all-unauthenticated/,
    );
    expect(failure({ LINKERD2_PROXY_ACCESS_LOG: 'common' })).toMatch(/ACCESS_LOG .*apache or json/);
    expect(failure({ LINKERD2_PROXY_POLICY_CLUSTER_NETWORKS: '10.0.0.0/33' })).toMatch(/NETWORKS .*CIDR/);
    expect(failure({ [TsmeshProxyEnv.InboundForwarded]: 'yes' })).toMatch(/FORWARDED .*xff/);
  });
});
