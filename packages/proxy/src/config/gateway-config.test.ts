import { ProxyEnv } from '@tsmesh/core';
import { describe, expect, it } from 'vitest';
import { createEnvSource } from './env-source.js';
import { readProxyConfig } from './proxy-config.js';

describe('LINKERD2_PROXY_INBOUND_GATEWAY_SUFFIXES', () => {
  it('is off by default', () => {
    expect(readProxyConfig(createEnvSource({})).inbound.gatewaySuffixes).toEqual([]);
  });

  it('reads a comma-separated list, lower case, without trailing dots', () => {
    const config = readProxyConfig(
      createEnvSource({ [ProxyEnv.InboundGatewaySuffixes]: 'svc.cluster.local., SVC.East.Local' }),
    );
    expect(config.inbound.gatewaySuffixes).toEqual(['svc.cluster.local', 'svc.east.local']);
  });

  it('reads . as the root suffix (any name)', () => {
    const config = readProxyConfig(createEnvSource({ [ProxyEnv.InboundGatewaySuffixes]: '.' }));
    expect(config.inbound.gatewaySuffixes).toEqual(['']);
  });

  it('refuses what is not a DNS suffix, naming the variable', () => {
    let err: unknown;
    try {
      readProxyConfig(createEnvSource({ [ProxyEnv.InboundGatewaySuffixes]: 'svc.cluster.local,bad_name!' }));
    } catch (e) {
      err = e;
    }
    expect(err).toMatchObject({ code: 'config' });
    expect(JSON.stringify({ ...(err as object), message: (err as Error).message })).toContain(
      ProxyEnv.InboundGatewaySuffixes,
    );
  });
});
