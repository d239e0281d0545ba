// Properties of inject()/uninject() over generated workloads of every supported kind: injecting
// twice changes nothing, the JSON patch turns the input into the output, uninject gives the input
// back, and the input is never mutated.
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { applyJsonPatch } from '../patch/index.js';
import { createInjectorConfig } from '../config/index.js';
import { annotate, inject, uninject } from './inject.js';
import { WORKLOAD_TEMPLATE_PATHS, type Workload } from './workload.js';

const name = fc.stringMatching(/^[a-z][a-z0-9-]{0,10}[a-z0-9]$/);
const port = fc.integer({ min: 1, max: 65535 });

/** Non-empty maps only: uninject drops the maps it empties, as it cannot know they existed. */
const stringMap = (keys: fc.Arbitrary<string>, values: fc.Arbitrary<string>) =>
  fc.option(fc.dictionary(keys, values, { minKeys: 1, maxKeys: 4 }), { nil: undefined });

const annotations = stringMap(
  fc.constantFrom(
    'example.com/owner',
    'example.com/team',
    'linkerd.io/inject',
    'config.linkerd.io/proxy-log-level',
    'config.linkerd.io/proxy-enable-native-sidecar',
    'config.linkerd.io/proxy-await',
    'config.linkerd.io/enable-debug-sidecar',
    'config.linkerd.io/opaque-ports',
    'config.linkerd.io/skip-inbound-ports',
    'config.linkerd.io/proxy-cpu-limit',
  ),
  fc.constantFrom(
    'enabled',
    'disabled',
    'ingress',
    'true',
    'false',
    'debug',
    '8080,9000-9010',
    '500m',
    'bogus',
    '',
  ),
);
const labels = stringMap(fc.constantFrom('app', 'tier', 'version', 'pod-template-hash'), name);

const container = (prefix: string) =>
  fc.record(
    {
      name: name.map((n) => `${prefix}-${n}`),
      image: fc.constant('example.invalid/app:1'),
      ports: fc.array(fc.record({ containerPort: port }, { requiredKeys: ['containerPort'] }), {
        minLength: 1,
        maxLength: 3,
      }),
      restartPolicy: fc.constant('Always'),
    },
    { requiredKeys: ['name', 'image'] },
  );
const uniqueContainers = (prefix: string, minLength: number) =>
  fc.uniqueArray(container(prefix), { minLength, maxLength: 3, selector: (c) => c.name });

const podSpec = fc.record(
  {
    containers: uniqueContainers('app', 1),
    initContainers: uniqueContainers('init', 1),
    volumes: fc.uniqueArray(fc.record({ name: name.map((n) => `vol-${n}`), emptyDir: fc.constant({}) }), {
      minLength: 1,
      maxLength: 2,
      selector: (v) => v.name,
    }),
    hostNetwork: fc.boolean(),
    serviceAccountName: name,
  },
  { requiredKeys: ['containers'] },
);

const template = fc.record({
  metadata: fc.record({ annotations, labels }).map((m) => JSON.parse(JSON.stringify(m)) as object),
  spec: podSpec,
});

const workload: fc.Arbitrary<Workload> = fc
  .record({
    kind: fc.constantFrom(...Object.keys(WORKLOAD_TEMPLATE_PATHS)),
    name,
    namespace: fc.option(name, { nil: undefined }),
    template,
  })
  .map(({ kind, name: n, namespace, template: t }) => {
    const metadata = { name: n, ...(namespace ? { namespace } : {}) };
    if (kind === 'Pod') {
      return { apiVersion: 'v1', kind, metadata: { ...metadata, ...t.metadata }, spec: t.spec } as Workload;
    }
    const path = WORKLOAD_TEMPLATE_PATHS[kind]!;
    // Build { spec: { template } } or { spec: { jobTemplate: { spec: { template } } } }.
    let node: unknown = t;
    for (const key of [...path].reverse()) node = { [key]: node };
    return { apiVersion: 'x/v1', kind, metadata, ...(node as object) } as Workload;
  });

const maybeList = fc.oneof(
  { weight: 4, arbitrary: workload },
  {
    weight: 1,
    arbitrary: fc
      .array(workload, { minLength: 1, maxLength: 3 })
      .map((items) => ({ apiVersion: 'v1', kind: 'List', items }) as Workload),
  },
);

const config = fc
  .record({ cniEnabled: fc.boolean(), nativeSidecar: fc.boolean(), await: fc.boolean() })
  .map(({ cniEnabled, nativeSidecar, await: awaitProxy }) =>
    createInjectorConfig({
      trustAnchorsPem: '-----BEGIN CERTIFICATE-----\ntest\n-----END CERTIFICATE-----\n',
      cniEnabled,
      proxy: { nativeSidecar, await: awaitProxy },
    }),
  );

describe('inject properties', () => {
  it('is idempotent, its patch makes its output, and uninject gives the input back', () => {
    let injected = 0;
    fc.assert(
      fc.property(maybeList, config, fc.boolean(), (x, cfg, requireAnnotation) => {
        const frozen = structuredClone(x);
        const first = inject(x, cfg, undefined, { requireAnnotation });
        injected += first.report.entries.filter((e) => e.status === 'injected').length;
        expect(x).toEqual(frozen);
        expect(applyJsonPatch(x, first.patch)).toEqual(first.object);
        const second = inject(first.object, cfg, undefined, { requireAnnotation });
        expect(second.patch).toEqual([]);
        expect(second.object).toEqual(first.object);
        expect(uninject(first.object).object).toEqual(x);
      }),
      { numRuns: 300 },
    );
    // The generator must reach the interesting case often.
    expect(injected).toBeGreaterThan(60);
  });

  it('is idempotent with namespace annotations too', () => {
    const namespace = fc.record({
      metadata: fc.record({
        name,
        annotations: fc.dictionary(
          fc.constantFrom(
            'linkerd.io/inject',
            'config.linkerd.io/proxy-log-level',
            'config.linkerd.io/proxy-uid',
          ),
          fc.constantFrom('enabled', 'disabled', 'debug', '3000'),
        ),
      }),
    });
    fc.assert(
      fc.property(maybeList, config, namespace, (x, cfg, ns) => {
        const first = inject(x, cfg, ns);
        expect(applyJsonPatch(x, first.patch)).toEqual(first.object);
        expect(inject(first.object, cfg, ns).patch).toEqual([]);
      }),
      { numRuns: 200 },
    );
  });
});

describe('inject on malformed objects', () => {
  it('never throws, whatever the shapes under the pod template', () => {
    const cfg = createInjectorConfig();
    const any = fc.anything({ maxDepth: 3 });
    const containerish = fc.oneof(
      any,
      fc.record({ name: fc.oneof(name, any), ports: any, restartPolicy: any }),
    );
    const listish = fc.oneof(any, fc.array(containerish, { maxLength: 3 }));
    const meta = fc.oneof(
      any,
      fc.record(
        {
          name: fc.oneof(name, any),
          annotations: fc.oneof(any, fc.dictionary(fc.constantFrom('linkerd.io/inject', 'a'), any)),
          labels: any,
          ownerReferences: fc.oneof(any, fc.array(fc.record({ kind: any, name: any, controller: any }))),
        },
        { requiredKeys: [] },
      ),
    );
    const spec = fc.oneof(
      any,
      fc.record(
        { containers: listish, initContainers: listish, volumes: listish, hostNetwork: any, template: any },
        { requiredKeys: [] },
      ),
    );
    const junk = fc.oneof(
      meta,
      spec,
      fc.array(fc.record({ kind: fc.constant('Pod'), metadata: meta, spec })),
    );
    fc.assert(
      fc.property(
        fc.constantFrom(...Object.keys(WORKLOAD_TEMPLATE_PATHS), 'List'),
        junk,
        junk,
        junk,
        (kind, metadata, spec, items) => {
          const object = { kind, metadata, spec, items } as unknown as Workload;
          expect(() => inject(object, cfg, undefined, { requireAnnotation: false })).not.toThrow();
          expect(() => uninject(object)).not.toThrow();
          expect(() => annotate(object, { 'config.linkerd.io/proxy-log-level': 'debug' })).not.toThrow();
        },
      ),
      { numRuns: 2000 },
    );
  });
});
