import { createPolicyIndex } from '@tsmesh/core';
import { describe, expect, it } from 'vitest';
import { ClusterState } from '../indexing/index.js';
import { parsePolicyResources } from '@tsmesh/core';
import {
  authorizationPolicy,
  httpRoute,
  networkAuthn,
  NS,
  pod,
  server,
} from '../testing-fixtures.test-support.js';
import { validatePolicyObject } from './validate-policy.js';

function state(objects: unknown[]): ClusterState {
  return new ClusterState({
    version: 1,
    resources: parsePolicyResources(objects),
    services: [],
    problems: [],
    options: {},
  });
}

const message = (r: ReturnType<typeof validatePolicyObject>) => (r.ok ? 'ok' : r.message);

describe('validatePolicyObject', () => {
  const existing = state([pod('web-0', { app: 'web', tier: 'front' }), server('web-a')]);

  it('refuses a second Server on the same pod port, by identical selector or by overlap', () => {
    expect(message(validatePolicyObject(server('web-b'), existing))).toContain(
      'Server emojivoto/web-b: spec.podSelector: selects the same workloads and port "http" as Server web-a',
    );
    expect(
      message(
        validatePolicyObject(
          server('web-c', { podSelector: { matchLabels: { tier: 'front' } }, port: 8080 }),
          existing,
        ),
      ),
    ).toContain('selects port 8080 of Pod web-0, which Server web-a already selects');
    expect(validatePolicyObject(server('web-a'), existing).ok).toBe(true); // an update of itself
    expect(validatePolicyObject(server('web-grpc', { port: 8081 }), existing).ok).toBe(true);
  });

  it('names the field of parse errors (unsupported target kind, bad CIDR)', () => {
    expect(
      message(
        validatePolicyObject(
          authorizationPolicy('ap', { group: 'apps', kind: 'Deployment', name: 'web' }, []),
          existing,
        ),
      ),
    ).toContain('spec.targetRef.kind');
    expect(message(validatePolicyObject(networkAuthn('n', [{ cidr: '10.0.0.0/33' }]), existing))).toContain(
      'spec.networks[0]',
    );
    expect(
      message(
        validatePolicyObject(
          networkAuthn('n', [{ cidr: '198.18.0.0/16', except: ['198.20.0.0/24'] }]),
          existing,
        ),
      ),
    ).toContain('spec.networks[0].except[0]: 198.20.0.0/24 is not inside 198.18.0.0/16');
  });

  it('checks route parents and timeouts', () => {
    expect(
      message(
        validatePolicyObject(
          httpRoute(
            'r',
            [
              { group: 'policy.linkerd.io', kind: 'Server', name: 'web-a' },
              { group: 'core', kind: 'Service', name: 'web' },
            ],
            [],
          ),
          existing,
        ),
      ),
    ).toContain('mixes Server and Service parents');
    expect(
      message(
        validatePolicyObject(
          httpRoute(
            'r',
            [{ group: 'core', kind: 'Service', name: 'web' }],
            [{ timeouts: { request: '1s', backendRequest: '5s' } }],
          ),
          existing,
        ),
      ),
    ).toContain(`HTTPRoute ${NS}/r: spec.rules[0].timeouts.backendRequest: 5s exceeds request 1s`);
    expect(
      message(
        validatePolicyObject(
          httpRoute(
            'r',
            [{ group: 'core', kind: 'Service', name: 'web' }],
            [{ timeouts: { request: 'soon' } }],
          ),
          existing,
        ),
      ),
    ).toContain('timeouts.request');
  });

  it('lets unrelated kinds through', () => {
    expect(
      validatePolicyObject({ apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'x' } }, undefined).ok,
    ).toBe(true);
    expect(createPolicyIndex([])).toBeTruthy();
  });
});
