import { describe, expect, it } from 'vitest';
import type { MeshError } from '@tsmesh/core';
import { VERSION } from '../version.js';
import {
  createInjectorConfig,
  defaultInjectorConfig,
  parseInjectorConfigText,
  type InjectorConfigInput,
} from './injector-config.js';

describe('createInjectorConfig', () => {
  it('takes a key named __proto__ in its input as a member, not as a prototype', () => {
    const input = JSON.parse('{"proxy": {"__proto__": {"logLevel": "debug"}}}') as InjectorConfigInput;
    const c = createInjectorConfig(input);
    expect(Object.getPrototypeOf(c.proxy)).toBe(Object.prototype);
    expect(c.proxy.logLevel).toBe(defaultInjectorConfig().proxy.logLevel);
  });

  it("has Linkerd's defaults with tsmesh's images, deeply frozen", () => {
    const c = defaultInjectorConfig();
    expect(c).toMatchObject({
      controlPlaneNamespace: 'linkerd',
      clusterDomain: 'cluster.local',
      trustDomain: 'cluster.local',
      destinationAddr: 'linkerd-dst-headless.linkerd.svc.cluster.local.:8086',
      identityAddr: 'linkerd-identity-headless.linkerd.svc.cluster.local.:8080',
      policyAddr: 'linkerd-policy.linkerd.svc.cluster.local.:8090',
      cniEnabled: false,
      proxy: {
        image: { name: 'ghcr.io/tsmesh/proxy', version: VERSION, pullPolicy: 'IfNotPresent' },
        ports: { inbound: 4143, outbound: 4140, admin: 4191, control: 4190 },
        uid: 2102,
        logLevel: 'warn,linkerd=info,hickory=error',
        defaultInboundPolicy: 'all-unauthenticated',
        opaquePorts: '25,587,3306,4444,5432,6379,9300,11211',
        nativeSidecar: true,
        await: true,
      },
      proxyInit: {
        ignoreInboundPorts: '4567,4568',
        ignoreOutboundPorts: '4567,4568',
        command: ['tsmesh-proxy', 'init'],
      },
    });
    expect(Object.isFrozen(c.proxy.ports)).toBe(true);
    expect(() => {
      (c.proxy as { uid: number }).uid = 0;
    }).toThrow();
  });

  it('derives service addresses from the namespace and domain, and proxy-init follows the proxy image', () => {
    const c = createInjectorConfig({
      controlPlaneNamespace: 'mesh',
      clusterDomain: 'example.org',
      proxy: { image: { name: 'registry.invalid/proxy', version: 'v2' } },
    });
    expect(c.destinationAddr).toBe('linkerd-dst-headless.mesh.svc.example.org.:8086');
    expect(c.trustDomain).toBe('example.org');
    expect(c.proxyInit.image).toMatchObject({ name: 'registry.invalid/proxy', version: 'v2' });
    expect(c.proxy.ports.admin).toBe(4191);
  });

  it('names the bad field', () => {
    const problem = (input: InjectorConfigInput) => {
      try {
        createInjectorConfig(input);
      } catch (err) {
        return (err as MeshError).describe();
      }
      return 'accepted';
    };
    expect(problem({ proxy: { ports: { admin: 70000 } } })).toBe(
      'injector config proxy.ports.admin: 70000 is not a port',
    );
    expect(problem({ controlPlaneNamespace: 'Bad_NS' })).toMatch(/not a namespace name/);
    expect(problem({ trustAnchorsPem: 'not a pem' })).toMatch(
      /trustAnchorsPem: the trust anchors are not PEM/,
    );
    expect(problem({ proxy: { opaquePorts: '25,abc' } })).toMatch(/^injector config proxy\.opaquePorts: /);
    expect(problem({ proxy: { defaultInboundPolicy: 'allow-all' as never } })).toMatch(
      /unknown policy "allow-all" \(use one of all-unauthenticated, /,
    );
  });

  it('reads values files', () => {
    expect(parseInjectorConfigText('cniEnabled: true\nproxy:\n  logLevel: debug\n', 'v.yaml')).toEqual({
      cniEnabled: true,
      proxy: { logLevel: 'debug' },
    });
    expect(parseInjectorConfigText('', 'empty.yaml')).toEqual({});
    expect(() => parseInjectorConfigText('- a\n', 'list.yaml')).toThrow(/not a mapping/);
    expect(() => parseInjectorConfigText('a: [', 'bad.yaml')).toThrow(/do not parse/);
  });
  it("proxy.waitBeforeExitSeconds (Linkerd's chart value): a preStop sleep, refused with the native sidecar", () => {
    const regular = createInjectorConfig({ proxy: { nativeSidecar: false, waitBeforeExitSeconds: 15 } });
    expect(regular.proxy.waitBeforeExitSeconds).toBe(15);
    expect(() => createInjectorConfig({ proxy: { waitBeforeExitSeconds: 15 } })).toThrow(
      /proxy\.nativeSidecar and waitBeforeExitSeconds cannot be used simultaneously/,
    );
    expect(() =>
      createInjectorConfig({ proxy: { nativeSidecar: false, waitBeforeExitSeconds: -1 } }),
    ).toThrow(/-1 is not a whole number of seconds/);
  });
});
