import { describe, expect, it } from 'vitest';
import { createEnvSource, readProxyConfig } from '../config/index.js';
import { identitySetupFromConfig } from './identity-from-config.js';

const anchors = '-----BEGIN CERTIFICATE-----\nMIIB\n-----END CERTIFICATE-----\n';
const full = {
  LINKERD2_PROXY_IDENTITY_SVC_ADDR: 'linkerd-identity-headless.linkerd.svc.cluster.local.:8080',
  LINKERD2_PROXY_IDENTITY_SVC_NAME: 'linkerd-identity.linkerd.serviceaccount.identity.linkerd.cluster.local',
  LINKERD2_PROXY_IDENTITY_TOKEN_FILE: '/var/run/secrets/tokens/linkerd-identity-token',
  LINKERD2_PROXY_IDENTITY_LOCAL_NAME: 'web.emojivoto.serviceaccount.identity.linkerd.cluster.local',
  LINKERD2_PROXY_IDENTITY_TRUST_ANCHORS: anchors,
};
const setup = (vars: Record<string, string>) =>
  identitySetupFromConfig(readProxyConfig(createEnvSource(vars)).identity);

describe('identitySetupFromConfig', () => {
  it("uses Linkerd's identity variables", () => {
    expect(setup(full)).toEqual({
      kind: 'enabled',
      tls: true,
      options: expect.objectContaining({
        address: 'linkerd-identity-headless.linkerd.svc.cluster.local.:8080',
        localName: 'web.emojivoto.serviceaccount.identity.linkerd.cluster.local',
        tokenFile: '/var/run/secrets/tokens/linkerd-identity-token',
        trustAnchorsPem: anchors.trim(),
      }),
    });
  });

  it('reaches the identity service over TLS for its name, except on loopback', () => {
    const remote = setup(full);
    expect(remote).toMatchObject({
      tls: true,
      options: {
        channelOptions: {
          'grpc.ssl_target_name_override':
            'linkerd-identity.linkerd.serviceaccount.identity.linkerd.cluster.local',
        },
      },
    });
    const local = setup({ ...full, LINKERD2_PROXY_IDENTITY_SVC_ADDR: '127.0.0.1:8080' });
    expect(local).toMatchObject({ tls: false, options: { address: '127.0.0.1:8080', channelOptions: {} } });
  });

  it('runs without identity when none is configured or it is disabled', () => {
    expect(setup({})).toMatchObject({ kind: 'disabled', reason: 'no identity service is configured' });
    expect(setup({ ...full, LINKERD2_PROXY_IDENTITY_DISABLED: 'true' })).toMatchObject({ kind: 'disabled' });
  });

  it('refuses a partial configuration, naming what is missing', () => {
    const { LINKERD2_PROXY_IDENTITY_TOKEN_FILE: _omitted, ...partial } = full;
    expect(() => setup(partial)).toThrow(/LINKERD2_PROXY_IDENTITY_TOKEN_FILE missing/);
  });
});
