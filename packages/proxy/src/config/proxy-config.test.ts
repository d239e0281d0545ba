import { MeshError, ProxyEnv } from '@tsmesh/core';
import { describe, expect, it } from 'vitest';
import { createEnvSource } from './env-source.js';
import { readProxyConfig, TsmeshProxyEnv } from './proxy-config.js';

const read = (vars: Record<string, string>) => readProxyConfig(createEnvSource(vars));

function configError(vars: Record<string, string>): MeshError {
  try {
    read(vars);
  } catch (err) {
    if (MeshError.is(err)) return err;
    throw err;
  }
  throw new Error('expected a config error');
}

describe('readProxyConfig', () => {
  it("has linkerd2-proxy's defaults", () => {
    const c = read({});
    expect(c.inbound.listenAddr).toEqual({ host: '0.0.0.0', port: 4143, family: 4 });
    expect(c.outbound.listenAddrs).toEqual([{ host: '127.0.0.1', port: 4140, family: 4 }]);
    expect(c.admin.listenAddr.port).toBe(4191);
    expect(c.admin.shutdownEndpointEnabled).toBe(false);
    expect(c.inbound.opaquePorts.ports).toEqual([25, 587, 3306, 4444, 5432, 6379, 9300, 11211]);
    expect(c.inbound.detectTimeoutMs).toBe(10_000);
    expect(c.shutdownGracePeriodMs).toBe(120_000);
    expect(c.destination).toBeUndefined();
  });

  it('reads the values the injector sets', () => {
    const c = read({
      [ProxyEnv.InboundListenAddr]: '[::]:4143',
      [ProxyEnv.OutboundListenAddrs]: '127.0.0.1:4140,[::1]:4140',
      [ProxyEnv.AdminListenAddr]: '0.0.0.0:4191',
      [ProxyEnv.InboundConnectTimeout]: '100ms',
      [ProxyEnv.OutboundConnectTimeout]: '1000ms',
      [ProxyEnv.InboundPortsDisableProtocolDetection]: '3306,6000-6002',
      [ProxyEnv.ShutdownGracePeriod]: '30s',
      [ProxyEnv.ShutdownEndpointEnabled]: 'true',
      [ProxyEnv.DestinationSvcAddr]: 'linkerd-dst-headless.linkerd.svc.cluster.local.:8086',
      [ProxyEnv.DestinationSvcName]:
        'linkerd-destination.linkerd.serviceaccount.identity.linkerd.cluster.local',
      [ProxyEnv.IdentityLocalName]: 'web.emojivoto.serviceaccount.identity.linkerd.cluster.local',
      [TsmeshProxyEnv.InboundForwardAddr]: '127.0.0.1:8080',
    });
    expect(c.inbound.listenAddr.family).toBe(6);
    expect(c.outbound.listenAddrs).toHaveLength(2);
    expect(c.inbound.connectTimeoutMs).toBe(100);
    expect(c.inbound.opaquePorts.ports).toEqual([3306, 6000, 6001, 6002]);
    expect(c.shutdownGracePeriodMs).toBe(30_000);
    expect(c.admin.shutdownEndpointEnabled).toBe(true);
    expect(c.destination?.addr).toEqual({
      host: 'linkerd-dst-headless.linkerd.svc.cluster.local.',
      port: 8086,
    });
    expect(c.inbound.forwardAddr?.port).toBe(8080);
  });

  it('is frozen all the way down', () => {
    const c = read({});
    expect(Object.isFrozen(c)).toBe(true);
    expect(Object.isFrozen(c.inbound)).toBe(true);
    expect(Object.isFrozen(c.outbound.listenAddrs)).toBe(true);
  });

  it('names the variable and what it accepts on a bad value', () => {
    const err = configError({ [ProxyEnv.ShutdownGracePeriod]: '30' });
    expect(err.code).toBe('config');
    expect(err.describe()).toBe(
      'LINKERD2_PROXY_SHUTDOWN_GRACE_PERIOD: invalid value "30" (expected a duration such as 100ms, 10s, 2m, 1h (units ms, s, m, h, d))',
    );
    expect(configError({ [ProxyEnv.InboundListenAddr]: 'localhost:4143' }).where).toBe(
      ProxyEnv.InboundListenAddr,
    );
    expect(configError({ [ProxyEnv.InboundPortsDisableProtocolDetection]: '70000' }).hint).toMatch(
      /ports and ranges/,
    );
    expect(configError({ [ProxyEnv.LogFormat]: 'xml' }).hint).toBe('expected plain or json');
  });

  it("reads the helper threads' nice value: 10 by default, 0 to 19", () => {
    expect(read({}).helperThreadNice).toBe(10);
    expect(read({ [TsmeshProxyEnv.HelperThreadNice]: '0' }).helperThreadNice).toBe(0);
    expect(read({ [TsmeshProxyEnv.HelperThreadNice]: '19' }).helperThreadNice).toBe(19);
    expect(configError({ [TsmeshProxyEnv.HelperThreadNice]: '20' }).hint).toBe(
      'expected a nice value from 0 to 19',
    );
    expect(configError({ [TsmeshProxyEnv.HelperThreadNice]: '-1' }).where).toBe(
      TsmeshProxyEnv.HelperThreadNice,
    );
  });

  it("reads the server HTTP/2 keep-alive of each side: the injector's 10s / 3s by default, 0 turns it off", () => {
    expect(read({}).inbound.http2KeepAlive).toEqual({ intervalMs: 10_000, timeoutMs: 3_000 });
    expect(read({}).outbound.http2KeepAlive).toEqual({ intervalMs: 10_000, timeoutMs: 3_000 });
    const c = read({
      [ProxyEnv.InboundServerHttp2KeepAliveInterval]: '20s',
      [ProxyEnv.InboundServerHttp2KeepAliveTimeout]: '500ms',
      [ProxyEnv.OutboundServerHttp2KeepAliveInterval]: '0s',
    });
    expect(c.inbound.http2KeepAlive).toEqual({ intervalMs: 20_000, timeoutMs: 500 });
    expect(c.outbound.http2KeepAlive).toBeUndefined();
    const err = configError({ [ProxyEnv.OutboundServerHttp2KeepAliveTimeout]: '0s' });
    expect(err.where).toBe(ProxyEnv.OutboundServerHttp2KeepAliveTimeout);
    expect(err.hint).toBe('expected a duration above 0 such as 3s');
  });

  it('requires service addresses and names in pairs', () => {
    const err = configError({
      [ProxyEnv.IdentitySvcAddr]: 'linkerd-identity-headless.linkerd.svc.cluster.local.:8080',
    });
    expect(err.where).toBe(ProxyEnv.IdentitySvcName);
  });
});
