import { Registry } from 'prom-client';
import { describe, expect, it } from 'vitest';
import type { AdmissionRequest } from '@tsmesh/kube';
import { createInjectorConfig } from '../config/index.js';
import { applyJsonPatch } from '../patch/index.js';
import { createInjectorHandler, type InjectorEvent } from './injector-webhook.js';
import { injectorWebhookConfiguration } from './webhook-configuration.js';

const config = createInjectorConfig({
  trustAnchorsPem: '-----BEGIN CERTIFICATE-----\nanchors\n-----END CERTIFICATE-----\n',
});
const signal = new AbortController().signal;

const pod = (annotations?: Record<string, string>) => ({
  apiVersion: 'v1',
  kind: 'Pod',
  metadata: {
    generateName: 'web-5f7c9-',
    labels: { 'pod-template-hash': '5f7c9' },
    ownerReferences: [{ kind: 'ReplicaSet', name: 'web-5f7c9', controller: true }],
    ...(annotations ? { annotations } : {}),
  },
  spec: { containers: [{ name: 'web', image: 'example.invalid/web:1' }] },
});

const request = (object: unknown, extra: Partial<AdmissionRequest> = {}): AdmissionRequest => ({
  uid: 'u1',
  kind: { group: '', version: 'v1', kind: 'Pod' },
  resource: { group: '', version: 'v1', resource: 'pods' },
  operation: 'CREATE',
  userInfo: { username: 'admin' },
  namespace: 'emojivoto',
  object: object as AdmissionRequest['object'],
  ...extra,
});

describe('createInjectorHandler', () => {
  it('injects a pod of an annotated namespace, labels its Deployment, records an event and counts', async () => {
    const registry = new Registry();
    const events: InjectorEvent[] = [];
    const handler = createInjectorHandler({
      config,
      registry,
      getNamespace: async (name) => ({ metadata: { name, annotations: { 'linkerd.io/inject': 'enabled' } } }),
      recordEvent: (e) => events.push(e),
    });
    const decision = await handler(request(pod()), { signal });
    expect(decision.allowed).toBe(true);
    const patch = decision.allowed ? (decision.patch ?? []) : [];
    const patched = applyJsonPatch(pod(), patch) as ReturnType<typeof pod> & {
      metadata: { labels: Record<string, string> };
      spec: { initContainers: { name: string }[] };
    };
    expect(patched.spec.initContainers.map((c) => c.name)).toEqual(['linkerd-init', 'linkerd-proxy']);
    expect(patched.metadata.labels).toMatchObject({
      'linkerd.io/proxy-deployment': 'web',
      'linkerd.io/workload-ns': 'emojivoto',
    });
    expect(events).toEqual([
      expect.objectContaining({
        reason: 'Injected',
        involvedObject: { kind: 'Deployment', name: 'web', namespace: 'emojivoto', apiVersion: 'apps/v1' },
      }),
    ]);
    const text = await registry.metrics();
    expect(text).toContain(
      'proxy_inject_admission_requests_total{owner_kind="deployment",namespace="emojivoto",annotation_at="namespace"} 1',
    );
    expect(text).toContain(
      'proxy_inject_admission_responses_total{owner_kind="deployment",namespace="emojivoto",annotation_at="namespace",skip="false",skip_reason=""} 1',
    );
  });

  it('refuses a pod whose proxy cannot be rendered (native sidecar with a preStop wait), as Linkerd does', async () => {
    const events: InjectorEvent[] = [];
    const handler = createInjectorHandler({
      config,
      getNamespace: async (name) => ({ metadata: { name, annotations: { 'linkerd.io/inject': 'enabled' } } }),
      recordEvent: (e) => events.push(e),
    });
    const wait = { 'config.alpha.linkerd.io/proxy-wait-before-exit-seconds': '20' };
    const refused = await handler(request(pod(wait)), { signal });
    expect(refused.allowed).toBe(false);
    expect(refused.allowed ? '' : refused.message).toMatch(
      /^linkerd-proxy-injector: config\.alpha\.linkerd\.io\/proxy-wait-before-exit-seconds=20 cannot be used with the native sidecar proxy.*proxy-enable-native-sidecar: "false"/,
    );
    expect(events).toEqual([]);
    // As a regular sidecar the same wait becomes the proxy's preStop sleep.
    const regular = { ...wait, 'config.linkerd.io/proxy-enable-native-sidecar': 'false' };
    const decision = await handler(request(pod(regular)), { signal });
    expect(decision.allowed).toBe(true);
    const patched = applyJsonPatch(pod(regular), decision.allowed ? (decision.patch ?? []) : []) as {
      spec: { containers: { name: string; lifecycle?: { preStop?: unknown } }[] };
    };
    expect(patched.spec.containers.find((c) => c.name === 'linkerd-proxy')?.lifecycle?.preStop).toEqual({
      exec: { command: ['/bin/sleep', '20'] },
    });
  });

  it('leaves other kinds, updates and unannotated pods alone; no events for dry runs', async () => {
    const events: InjectorEvent[] = [];
    const handler = createInjectorHandler({
      config,
      getNamespace: async () => undefined,
      recordEvent: (e) => events.push(e),
    });
    expect(await handler(request(pod(), { operation: 'UPDATE' }), { signal })).toEqual({ allowed: true });
    expect(
      await handler(request({ kind: 'Service' }, { kind: { group: '', version: 'v1', kind: 'Service' } }), {
        signal,
      }),
    ).toEqual({ allowed: true });
    expect(await handler(request(pod()), { signal })).toMatchObject({ allowed: true, patch: undefined });
    const disabled = await handler(request(pod({ 'linkerd.io/inject': 'disabled' })), { signal });
    expect(disabled).toMatchObject({ allowed: true, patch: undefined });
    expect(events.map((e) => e.reason)).toEqual(['InjectionSkipped']);
    await handler(request(pod({ 'linkerd.io/inject': 'enabled' }), { dryRun: true }), { signal });
    expect(events).toHaveLength(1);
  });

  it('annotates Services and pods with the default opaque ports they expose, unless set', async () => {
    const handler = createInjectorHandler({ config, getNamespace: async () => undefined });
    const service = (annotations?: Record<string, string>) => ({
      apiVersion: 'v1',
      kind: 'Service',
      metadata: { name: 'db', ...(annotations ? { annotations } : {}) },
      spec: { ports: [{ port: 5432 }, { port: 8080 }, { port: 3306 }] },
    });
    const asService = { kind: { group: '', version: 'v1', kind: 'Service' } };
    expect(await handler(request(service(), asService), { signal })).toEqual({
      allowed: true,
      patch: [
        {
          op: 'add',
          path: '/metadata/annotations',
          value: { 'config.linkerd.io/opaque-ports': '3306,5432' },
        },
      ],
      warnings: undefined,
    });
    const own = await handler(request(service({ 'config.linkerd.io/opaque-ports': '8080' }), asService), {
      signal,
    });
    expect(own).toMatchObject({ allowed: true, patch: undefined });
    const withPorts = pod({ 'linkerd.io/inject': 'enabled' });
    (withPorts.spec.containers[0] as { ports?: unknown }).ports = [
      { containerPort: 6379 },
      { containerPort: 80 },
    ];
    const decision = await handler(request(withPorts), { signal });
    const patched = applyJsonPatch(withPorts, decision.allowed ? (decision.patch ?? []) : []);
    expect(patched.metadata.annotations).toMatchObject({ 'config.linkerd.io/opaque-ports': '6379' });
  });

  it('fails (so failurePolicy applies) when the namespace cannot be read', async () => {
    const handler = createInjectorHandler({
      config,
      getNamespace: async () => {
        throw new Error('connection refused');
      },
    });
    await expect(handler(request(pod()), { signal })).rejects.toThrow(/cannot read namespace emojivoto/);
  });

  it('passes override warnings back to kubectl', async () => {
    const handler = createInjectorHandler({ config, getNamespace: async () => undefined });
    const decision = await handler(
      request(pod({ 'linkerd.io/inject': 'enabled', 'config.linkerd.io/proxy-uid': 'root' })),
      { signal },
    );
    expect(decision.warnings).toEqual(['ignored config.linkerd.io/proxy-uid="root": expected a user id']);
  });
});

describe('injectorWebhookConfiguration', () => {
  it("is Linkerd's: failurePolicy Ignore, kube-system and the control plane left out", () => {
    const c = injectorWebhookConfiguration({ caBundlePem: 'PEM', controlPlaneNamespace: 'linkerd' });
    const hook = c.webhooks[0]!;
    expect(hook.failurePolicy).toBe('Ignore');
    expect(hook.clientConfig).toEqual({
      caBundle: Buffer.from('PEM').toString('base64'),
      service: { name: 'linkerd-proxy-injector', namespace: 'linkerd', path: '/', port: 443 },
    });
    expect(hook.namespaceSelector.matchExpressions).toContainEqual({
      key: 'kubernetes.io/metadata.name',
      operator: 'NotIn',
      values: ['kube-system', 'cert-manager', 'linkerd'],
    });
    expect(hook.rules).toEqual([
      {
        operations: ['CREATE'],
        apiGroups: [''],
        apiVersions: ['v1'],
        resources: ['pods', 'services'],
        scope: 'Namespaced',
      },
    ]);
  });
});
