import { describe, expect, it } from 'vitest';
import { objectKey } from './kube-object.js';
import {
  apiVersionOf,
  CoreKinds,
  kindKey,
  knownResourceKinds,
  MeshKinds,
  parseApiVersion,
} from './resource-kinds.js';

describe('resource kinds', () => {
  it('formats and parses apiVersions', () => {
    expect(apiVersionOf(CoreKinds.Pod)).toBe('v1');
    expect(apiVersionOf(MeshKinds.Server)).toBe('policy.linkerd.io/v1beta3');
    expect(parseApiVersion('v1')).toEqual({ group: '', version: 'v1' });
    expect(parseApiVersion('discovery.k8s.io/v1')).toEqual({ group: 'discovery.k8s.io', version: 'v1' });
  });

  it('derives mesh kinds from the CRDs: storage version read, every served version accepted', () => {
    expect(MeshKinds.Server).toEqual({
      group: 'policy.linkerd.io',
      version: 'v1beta3',
      kind: 'Server',
      plural: 'servers',
      namespaced: true,
      servedVersions: ['v1alpha1', 'v1beta1', 'v1beta2', 'v1beta3'],
    });
    expect(MeshKinds.GatewayHTTPRoute.version).toBe('v1');
    expect(MeshKinds.PolicyHTTPRoute.group).toBe('policy.linkerd.io');
    expect(CoreKinds.Namespace.namespaced).toBe(false);
  });

  it('keys kinds and objects', () => {
    expect(kindKey(CoreKinds.Pod)).toBe('Pod');
    expect(kindKey(MeshKinds.GatewayGRPCRoute)).toBe('GRPCRoute.gateway.networking.k8s.io');
    expect(objectKey({ metadata: { namespace: 'a', name: 'b' } })).toBe('a/b');
    expect(objectKey({ metadata: { name: 'n' } })).toBe('n');
    const keys = knownResourceKinds().map(kindKey);
    expect(new Set(keys).size).toBe(keys.length);
  });
});
