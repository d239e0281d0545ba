import { describe, expect, it } from 'vitest';
import { MeshError } from '@tsmesh/core';
import type { KubeObject } from '@tsmesh/kube';
import { parseTapTarget } from './tap-query.js';
import { addressLabelsIndex, labelsInTarget, noPodsError, selectTapPods } from './tap-targets.js';

function pod(
  name: string,
  o: {
    ns?: string;
    deploy?: string;
    ip?: string;
    meshed?: boolean;
    /** The proxy as a native sidecar (an init container), as the injector adds it on 1.29+. */
    nativeSidecar?: boolean;
    annotations?: Record<string, string>;
  } = {},
) {
  return {
    apiVersion: 'v1',
    kind: 'Pod',
    metadata: {
      name,
      namespace: o.ns ?? 'emojivoto',
      labels: o.deploy ? { 'linkerd.io/proxy-deployment': o.deploy } : {},
      annotations: o.annotations ?? { 'viz.linkerd.io/tap-enabled': 'true' },
    },
    spec: {
      serviceAccountName: o.deploy ?? 'default',
      containers: [
        { name: 'app' },
        ...(o.meshed === false || o.nativeSidecar ? [] : [{ name: 'linkerd-proxy' }]),
      ],
      ...(o.nativeSidecar ? { initContainers: [{ name: 'linkerd-init' }, { name: 'linkerd-proxy' }] } : {}),
    },
    status: { phase: 'Running', podIP: o.ip ?? '198.18.0.1' },
  } as unknown as KubeObject;
}

describe('tap targets', () => {
  const pods = [
    pod('web-1', { deploy: 'web', ip: '198.18.0.1' }),
    pod('web-2', { deploy: 'web', ip: '198.18.0.2', annotations: { 'viz.linkerd.io/disable-tap': 'true' } }),
    pod('web-3', { deploy: 'web', ip: '198.18.0.3', annotations: {} }),
    pod('web-4', { deploy: 'web', ip: '198.18.0.4', meshed: false }),
    pod('voting-1', { deploy: 'voting', ip: '198.18.0.5' }),
    pod('web-1', { deploy: 'web', ns: 'other', ip: '198.18.0.6' }),
    pod('web-5', { deploy: 'web', ip: '198.18.0.7', nativeSidecar: true }),
  ];

  it('selects running meshed pods of the resource with tap enabled, naming the rest', () => {
    const s = selectTapPods(pods, parseTapTarget('deploy/web', 'emojivoto'));
    expect(s.pods.map((p) => [p.name, p.ip, p.identity])).toEqual([
      ['web-1', '198.18.0.1', 'web.emojivoto.serviceaccount.identity.linkerd.cluster.local'],
      ['web-5', '198.18.0.7', 'web.emojivoto.serviceaccount.identity.linkerd.cluster.local'],
    ]);
    expect(s.disabled).toEqual(['web-2']);
    expect(s.notEnabled).toEqual(['web-3']);
    expect(selectTapPods(pods, parseTapTarget('ns/emojivoto', 'default')).pods.map((p) => p.name)).toEqual([
      'web-1',
      'voting-1',
      'web-5',
    ]);
    expect(selectTapPods(pods, parseTapTarget('po/voting-1', 'emojivoto')).pods).toHaveLength(1);
  });

  it('explains why nothing can be tapped', () => {
    const target = parseTapTarget('deploy/web', 'emojivoto');
    const err = noPodsError(target, { pods: [], disabled: ['web-2'], notEnabled: ['web-3'] });
    expect(err).toBeInstanceOf(MeshError);
    expect(err.message).toContain('no pods to tap for deployment/web in namespace emojivoto');
    expect(err.message).toContain('viz.linkerd.io/disable-tap annotation: web-2');
    expect(err.message).toContain('tap not enabled: web-3');
  });

  it('names addresses by their pods and matches --to', () => {
    const labelsOf = addressLabelsIndex(pods);
    expect(labelsOf('198.18.0.5')).toMatchObject({
      namespace: 'emojivoto',
      pod: 'voting-1',
      deployment: 'voting',
    });
    expect(labelsOf('198.18.9.9')).toBeUndefined();
    const voting = labelsOf('198.18.0.5')!;
    expect(labelsInTarget(voting, parseTapTarget('deploy/voting', 'emojivoto'))).toBe(true);
    expect(labelsInTarget(voting, parseTapTarget('deploy/voting', 'other'))).toBe(false);
    expect(labelsInTarget(voting, parseTapTarget('deploy/web', 'emojivoto'))).toBe(false);
    expect(labelsInTarget(voting, parseTapTarget('ns/emojivoto', 'x'))).toBe(true);
  });
});
