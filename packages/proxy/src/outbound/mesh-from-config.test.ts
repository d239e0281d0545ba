import { ProxyEnv } from '@tsmesh/core';
import { credentials } from '@grpc/grpc-js';
import { Registry } from 'prom-client';
import { describe, expect, it } from 'vitest';
import { createEnvSource, readProxyConfig } from '../config/index.js';
import { createOutboundMeshFromConfig } from './index.js';

describe('outbound mesh from config', () => {
  it("reads Linkerd's outbound discovery variables with linkerd2-proxy's defaults", () => {
    const d = readProxyConfig(createEnvSource({})).outboundDiscovery;
    expect(d).toEqual({
      idleTimeoutMs: 5000,
      httpFailfastTimeoutMs: 3000,
      httpQueueCapacity: 10_000,
      destinationContext: undefined,
      profileInitialTimeoutMs: 500,
      policyWorkload: undefined,
    });
    const set = readProxyConfig(
      createEnvSource({
        [ProxyEnv.OutboundDiscoveryIdleTimeout]: '90s',
        [ProxyEnv.DestinationContext]: '{"ns":"emojivoto","nodeName":"n1"}',
        [ProxyEnv.PolicyWorkload]: '{"ns":"emojivoto","pod":"web-1"}',
      }),
    ).outboundDiscovery;
    expect(set.idleTimeoutMs).toBe(90_000);
    expect(set.destinationContext).toBe('{"ns":"emojivoto","nodeName":"n1"}');
    expect(() =>
      readProxyConfig(createEnvSource({ [ProxyEnv.OutboundHttpFailfastTimeout]: 'soon' })),
    ).toThrow(expect.objectContaining({ where: 'LINKERD2_PROXY_OUTBOUND_HTTP_FAILFAST_TIMEOUT' }));
  });

  it('builds no mesh stack without a destination or policy service', () => {
    const config = readProxyConfig(createEnvSource({}));
    const none = createOutboundMeshFromConfig({
      config,
      registry: new Registry(),
      meshTls: undefined,
      destination: undefined,
      policy: undefined,
    });
    expect(none).toBeUndefined();
    const some = createOutboundMeshFromConfig({
      config,
      registry: new Registry(),
      meshTls: undefined,
      destination: { address: '127.0.0.1:1', credentials: credentials.createInsecure() },
      policy: undefined,
    });
    expect(some?.discovery.hasDestination).toBe(true);
    expect(some?.discovery.hasPolicy).toBe(false);
    some?.close();
    void some?.mesh.close();
  });
});
