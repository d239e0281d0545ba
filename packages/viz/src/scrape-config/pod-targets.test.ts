import { describe, expect, it } from 'vitest';
import type { KubeObject } from '@tsmesh/kube';
import { podScrapeTargets } from './pod-targets.js';

const pod = (name: string, spec: Record<string, unknown>, phase = 'Running') =>
  ({
    apiVersion: 'v1',
    kind: 'Pod',
    metadata: {
      name,
      namespace: 'emojivoto',
      labels: { 'linkerd.io/proxy-deployment': 'web', 'linkerd.io/control-plane-ns': 'linkerd' },
    },
    spec: { serviceAccountName: 'web', ...spec },
    status: { phase, podIP: '198.18.0.9' },
  }) as unknown as KubeObject;

const proxy = { name: 'linkerd-proxy', ports: [{ name: 'linkerd-admin', containerPort: 4191 }] };

describe('podScrapeTargets', () => {
  it('scrapes the proxy as a container or as a native sidecar (init container), running pods only', () => {
    const targets = podScrapeTargets([
      pod('web-a', { containers: [{ name: 'app' }, proxy] }),
      pod('web-b', { containers: [{ name: 'app' }], initContainers: [{ name: 'linkerd-init' }, proxy] }),
      pod('web-c', { containers: [{ name: 'app' }] }),
      pod('web-d', { containers: [proxy] }, 'Pending'),
    ]);
    expect(targets.map((t) => [t.labels.pod, t.url, t.labels.deployment])).toEqual([
      ['web-a', 'http://198.18.0.9:4191/metrics', 'web'],
      ['web-b', 'http://198.18.0.9:4191/metrics', 'web'],
    ]);
  });
});
