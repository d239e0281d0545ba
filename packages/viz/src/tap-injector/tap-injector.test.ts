import { describe, expect, it } from 'vitest';
import type { KubeObject } from '@tsmesh/kube';
import { tapInjectionPatch } from './tap-injector.js';

const TAP = 'tap.linkerd-viz.serviceaccount.identity.linkerd.cluster.local';
const pod = (extra: Record<string, unknown> = {}, env?: { name: string; value: string }[]) =>
  ({
    apiVersion: 'v1',
    kind: 'Pod',
    metadata: { name: 'web-1', annotations: { 'linkerd.io/inject': 'enabled' }, ...extra },
    spec: { containers: [{ name: 'web' }, { name: 'linkerd-proxy', ...(env ? { env } : {}) }] },
  }) as unknown as KubeObject;

describe('tap injection', () => {
  it('adds LINKERD2_PROXY_TAP_SVC_NAME to the proxy and marks the pod tap-enabled', () => {
    expect(tapInjectionPatch(pod({}, [{ name: 'A', value: 'b' }]), TAP)).toEqual([
      {
        op: 'add',
        path: '/spec/containers/1/env/-',
        value: { name: 'LINKERD2_PROXY_TAP_SVC_NAME', value: TAP },
      },
      { op: 'add', path: '/metadata/annotations/viz.linkerd.io~1tap-enabled', value: 'true' },
    ]);
    expect(tapInjectionPatch(pod({ annotations: undefined }), TAP)).toEqual([
      {
        op: 'add',
        path: '/spec/containers/1/env',
        value: [{ name: 'LINKERD2_PROXY_TAP_SVC_NAME', value: TAP }],
      },
      { op: 'add', path: '/metadata/annotations', value: {} },
      { op: 'add', path: '/metadata/annotations/viz.linkerd.io~1tap-enabled', value: 'true' },
    ]);
  });

  it('leaves opted-out, unmeshed and already configured pods alone', () => {
    expect(tapInjectionPatch(pod({ annotations: { 'viz.linkerd.io/disable-tap': 'true' } }), TAP)).toEqual(
      [],
    );
    expect(tapInjectionPatch(pod(), TAP, { 'viz.linkerd.io/disable-tap': 'true' })).toEqual([]);
    expect(tapInjectionPatch(pod({}, [{ name: 'LINKERD2_PROXY_TAP_SVC_NAME', value: 'x' }]), TAP)).toEqual(
      [],
    );
    const bare = { metadata: {}, spec: { containers: [{ name: 'app' }] } } as unknown as KubeObject;
    expect(tapInjectionPatch(bare, TAP)).toEqual([]);
  });
});
