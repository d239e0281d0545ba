// tsmesh's explicit-mode variables (local mode): extra inbound listen addresses and peer identities.
import { MeshError } from '@tsmesh/core';
import { describe, expect, it } from 'vitest';
import { createEnvSource } from './env-source.js';
import { readProxyConfig, TsmeshProxyEnv } from './proxy-config.js';

const read = (vars: Record<string, string>) => readProxyConfig(createEnvSource(vars));
const describeError = (vars: Record<string, string>) => {
  try {
    read(vars);
  } catch (err) {
    if (MeshError.is(err)) return err.describe();
    throw err;
  }
  throw new Error('expected a config error');
};

describe('explicit-mode configuration', () => {
  it('reads extra inbound listen addresses (none by default)', () => {
    expect(read({}).inbound.extraListenAddrs).toEqual([]);
    expect(
      read({ [TsmeshProxyEnv.InboundListenAddrs]: '127.0.1.7:8080, 127.0.1.7:9090,[::1]:7000' }).inbound
        .extraListenAddrs,
    ).toEqual([
      { host: '127.0.1.7', port: 8080, family: 4 },
      { host: '127.0.1.7', port: 9090, family: 4 },
      { host: '::1', port: 7000, family: 6 },
    ]);
  });

  it('names the variable and the syntax on a bad listen address', () => {
    const message = describeError({ [TsmeshProxyEnv.InboundListenAddrs]: '127.0.1.7:8080,web:80' });
    expect(message).toContain('TSMESH_PROXY_INBOUND_LISTEN_ADDRS');
    expect(message).toContain('IP:port');
  });

  it('reads peer identities with and without a port', () => {
    const id = 'web.emojivoto.serviceaccount.identity.linkerd.cluster.local';
    expect(
      read({
        [TsmeshProxyEnv.OutboundPeerIdentities]: `198.18.0.7:8080=${id},198.18.0.8=${id},[fd00::1]=${id}`,
      }).outbound.peerIdentities,
    ).toEqual([
      { host: '198.18.0.7', port: 8080, identity: id },
      { host: '198.18.0.8', port: undefined, identity: id },
      { host: 'fd00::1', port: undefined, identity: id },
    ]);
    const message = describeError({ [TsmeshProxyEnv.OutboundPeerIdentities]: '198.18.0.7:8080' });
    expect(message).toContain('TSMESH_PROXY_OUTBOUND_PEER_IDENTITIES');
    expect(message).toContain('IP:PORT=identity');
  });
});
