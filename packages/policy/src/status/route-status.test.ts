import { parsePolicyResources } from '@tsmesh/core';
import { describe, expect, it } from 'vitest';
import { ClusterState, parseService } from '../indexing/index.js';
import { httpRoute, NS, server, service } from '../testing-fixtures.test-support.js';
import { desiredRouteParents, POLICY_CONTROLLER_NAME } from './route-status.js';

const state = new ClusterState({
  version: 1,
  resources: parsePolicyResources([server('web-http')]),
  services: [parseService(service('web', [{ port: 80 }]))],
  problems: [],
  options: {},
});

describe('desiredRouteParents', () => {
  it('writes Accepted/ResolvedRefs for Server and Service parents and keeps other controllers', () => {
    const route = {
      ...httpRoute(
        'r',
        [
          { group: 'policy.linkerd.io', kind: 'Server', name: 'web-http' },
          { group: 'core', kind: 'Service', name: 'nope', port: 80 },
          { name: 'some-gateway' },
        ],
        [{ backendRefs: [{ name: 'web', port: 80 }] }],
      ),
      status: {
        parents: [
          { parentRef: { name: 'some-gateway' }, controllerName: 'example.com/gateway', conditions: [] },
        ],
      },
    };
    const out = desiredRouteParents(route, 'gateway.networking.k8s.io', state, () => 'T');
    expect(
      out.map((p) => [
        p.controllerName,
        p.parentRef.name,
        p.conditions.map((c) => `${c.type}=${c.status}/${c.reason}`),
      ]),
    ).toEqual([
      ['example.com/gateway', 'some-gateway', []],
      [POLICY_CONTROLLER_NAME, 'web-http', ['Accepted=True/Accepted', 'ResolvedRefs=True/ResolvedRefs']],
      [POLICY_CONTROLLER_NAME, 'nope', ['Accepted=False/NoMatchingParent', 'ResolvedRefs=True/ResolvedRefs']],
    ]);
    expect(out[2]?.conditions[0]?.message).toBe(`Service ${NS}/nope not found`);
    // Unchanged conditions keep their transition time.
    const again = desiredRouteParents(
      { ...route, status: { parents: out } },
      'gateway.networking.k8s.io',
      state,
      () => 'LATER',
    );
    expect(again).toEqual(out);
  });
});
