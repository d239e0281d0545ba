import { describe, expect, it } from 'vitest';
import { podProxyContainer } from './meshed-pod.js';

describe('podProxyContainer', () => {
  it('finds the proxy as a container or as a native-sidecar init container', () => {
    const proxy = { name: 'linkerd-proxy', ports: [{ name: 'linkerd-admin', containerPort: 4191 }] };
    expect(podProxyContainer({ spec: { containers: [{ name: 'app' }, proxy] } })).toBe(proxy);
    expect(
      podProxyContainer({
        spec: { containers: [{ name: 'app' }], initContainers: [{ name: 'linkerd-init' }, proxy] },
      }),
    ).toBe(proxy);
    expect(
      podProxyContainer({
        spec: { containers: [{ name: 'app' }], initContainers: [{ name: 'linkerd-init' }] },
      }),
    ).toBeUndefined();
    expect(podProxyContainer({})).toBeUndefined();
  });
});
