import { describe, expect, it } from 'vitest';
import { createInjectorConfig } from './injector-config.js';
import { injectorConfigFromLinkerdValues } from './linkerd-values.js';

describe('injectorConfigFromLinkerdValues', () => {
  it("reads Linkerd's chart values (empty strings unset, gid -1 none)", () => {
    const values = {
      clusterDomain: 'example.org',
      clusterNetworks: '198.18.0.0/15',
      imagePullPolicy: 'Always',
      linkerdVersion: 'edge-26.6.3',
      cniEnabled: true,
      identityTrustAnchorsPEM: '-----BEGIN CERTIFICATE-----\nPEM\n-----END CERTIFICATE-----\n',
      identityTrustDomain: '',
      disableIPv6: true,
      proxy: {
        image: { name: 'cr.l5d.io/linkerd/proxy', pullPolicy: '', version: '' },
        logLevel: 'warn,linkerd=info',
        ports: { admin: 4191, control: 4190, inbound: 4143, outbound: 4140 },
        resources: {
          cpu: { limit: '', request: '100m' },
          'ephemeral-storage': { limit: '1Gi', request: '' },
        },
        uid: 2102,
        gid: -1,
        await: true,
        nativeSidecar: false,
        opaquePorts: '25,3306',
        defaultInboundPolicy: 'all-authenticated',
        control: { streams: { initialTimeout: '3s', idleTimeout: '5m', lifetime: '1h' } },
        capabilities: { drop: ['ALL'] },
      },
      proxyInit: {
        iptablesMode: 'legacy',
        ignoreInboundPorts: '4567,4568',
        ignoreOutboundPorts: '',
        runAsUser: 65534,
      },
      debugContainer: { image: { name: 'cr.l5d.io/linkerd/debug', version: '', pullPolicy: '' } },
    };
    const input = injectorConfigFromLinkerdValues(values, { controlPlaneNamespace: 'linkerd' });
    const config = createInjectorConfig(input);
    expect(config).toMatchObject({
      controlPlaneNamespace: 'linkerd',
      clusterDomain: 'example.org',
      trustDomain: 'example.org',
      trustAnchorsPem: '-----BEGIN CERTIFICATE-----\nPEM\n-----END CERTIFICATE-----\n',
      clusterNetworks: '198.18.0.0/15',
      cniEnabled: true,
      destinationAddr: 'linkerd-dst-headless.linkerd.svc.example.org.:8086',
      proxy: {
        image: { name: 'cr.l5d.io/linkerd/proxy', version: 'edge-26.6.3', pullPolicy: 'Always' },
        gid: undefined,
        nativeSidecar: false,
        opaquePorts: '25,3306',
        defaultInboundPolicy: 'all-authenticated',
        resources: { cpu: { request: '100m' }, ephemeralStorage: { limit: '1Gi' } },
        capabilities: { drop: ['ALL'] },
      },
      proxyInit: {
        iptablesMode: 'legacy',
        ignoreOutboundPorts: '',
        image: { name: 'cr.l5d.io/linkerd/proxy', version: 'edge-26.6.3', pullPolicy: 'Always' },
      },
      debugImage: { name: 'cr.l5d.io/linkerd/debug', version: 'edge-26.6.3', pullPolicy: 'Always' },
    });
    expect(config.proxy.resources.cpu.limit).toBeUndefined();
  });

  it('gives an empty input for nothing', () => {
    expect(injectorConfigFromLinkerdValues(undefined)).toEqual({});
    expect(injectorConfigFromLinkerdValues({ proxy: { image: {} } })).toEqual({});
  });
});
