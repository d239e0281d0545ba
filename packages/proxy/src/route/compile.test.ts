import { PreparedRequest, type destination, type outbound } from '@tsmesh/core';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { compilePolicy, compileProfile, profileHasRouting } from './index.js';

const d = (ms: number) => ({ seconds: Math.floor(ms / 1000), nanos: (ms % 1000) * 1e6 });
const req = (path: string, method = 'GET', headers: Record<string, string> = {}) =>
  new PreparedRequest({ method, path, headers, host: 'web.ns.svc.cluster.local' });

const backend = (path: string) => ({
  metadata: {
    resource: { group: 'core', kind: 'Service', name: path.split('.')[0], namespace: 'ns', port: 80 },
  },
  balancer: { discovery: { dst: { path } }, peakEwma: { defaultRtt: d(50), decay: d(5000) } },
  queue: { capacity: 7, failfastTimeout: d(1500) },
});

describe('compilePolicy', () => {
  const policy = {
    metadata: { resource: { group: 'core', kind: 'Service', name: 'web', namespace: 'ns', port: 80 } },
    protocol: {
      detect: {
        http1: {
          routes: [
            {
              metadata: {
                resource: {
                  group: 'gateway.networking.k8s.io',
                  kind: 'HTTPRoute',
                  name: 'r',
                  namespace: 'ns',
                },
              },
              rules: [
                {
                  matches: [{ path: { prefix: '/api' } }],
                  backends: {
                    randomAvailable: {
                      backends: [
                        { weight: 90, backend: { backend: backend('a.ns.svc.cluster.local:80') } },
                        { weight: 10, backend: { backend: backend('b.ns.svc.cluster.local:80') } },
                      ],
                    },
                  },
                  timeouts: { request: d(2000), response: d(500) },
                  retry: {
                    maxRetries: 2,
                    maxRequestBytes: 1024,
                    conditions: { statusRanges: [{ start: 500, end: 599 }] },
                  },
                },
                {
                  matches: [{ path: { exact: '/api/health' }, method: { registered: 0 } }],
                  backends: {
                    firstAvailable: { backends: [{ backend: backend('a.ns.svc.cluster.local:80') }] },
                  },
                },
              ],
            },
          ],
          failureAccrual: {
            consecutiveFailures: {
              maxFailures: 5,
              backoff: { minBackoff: d(100), maxBackoff: d(1000), jitterRatio: 0.1 },
            },
          },
        },
      },
    },
  } as unknown as outbound.OutboundPolicy;

  it('translates routes, weights, timeouts, retries and failure accrual', () => {
    const plan = compilePolicy(policy, 'web.ns.svc.cluster.local', 80);
    expect(plan.parent).toMatchObject({ parent_kind: 'Service', parent_name: 'web', parent_port: '80' });
    const hit = plan.table.find(req('/api/users'));
    const rule = hit?.route.rules[hit.ruleIndex];
    expect(rule?.backends.map((b) => b.weight)).toEqual([90, 10]);
    expect(rule?.backends[0]?.backend.dispatch).toMatchObject({
      kind: 'balancer',
      path: 'a.ns.svc.cluster.local:80',
      ewma: { defaultRttMs: 50 },
    });
    expect(rule?.backends[0]?.backend.queue).toEqual({ capacity: 7, failfastMs: 1500 });
    expect(rule?.timeouts).toEqual({ requestMs: 2000, responseMs: 500 });
    expect(rule?.retry).toMatchObject({ maxRetries: 2, maxRequestBytes: 1024, httpStatuses: [[500, 599]] });
    expect(plan.failureAccrual).toEqual({
      maxFailures: 5,
      backoff: { minMs: 100, maxMs: 1000, jitter: 0.1 },
    });
    // The exact match outranks the prefix (Gateway API precedence).
    expect(plan.table.find(req('/api/health'))?.ruleIndex).toBe(1);
    expect(plan.table.find(req('/other'))).toBeUndefined();
  });

  it('sends authority-addressed HTTP under an opaque policy to the opaque route backend', () => {
    // What the policy controller answers for a Service port whose appProtocol it does not know
    // (e.g. `grpc`): an opaque route to the Service itself.
    const opaque = {
      metadata: policy.metadata,
      protocol: {
        opaque: {
          routes: [
            {
              metadata: { default: 'opaq' },
              rules: [
                {
                  backends: {
                    firstAvailable: { backends: [{ backend: backend('web.ns.svc.cluster.local:80') }] },
                  },
                },
              ],
            },
          ],
        },
      },
    } as unknown as outbound.OutboundPolicy;
    const plan = compilePolicy(opaque, 'web.ns.svc.cluster.local', 80);
    expect(plan.protocol).toBe('opaque');
    expect(plan.opaqueBackends[0]?.backend.dispatch).toMatchObject({ path: 'web.ns.svc.cluster.local:80' });
    const hit = plan.table.find(req('/tsmesh.demo.v1.EmojiService/ListAll', 'POST'));
    expect(hit?.route.rules[hit.ruleIndex]?.backends[0]?.backend.dispatch).toMatchObject({
      kind: 'balancer',
      path: 'web.ns.svc.cluster.local:80',
    });
  });

  it('survives an empty or odd policy', () => {
    expect(() => compilePolicy({} as outbound.OutboundPolicy, 'x', 1)).not.toThrow();
  });

  it('property: any JSON-shaped policy or profile compiles (bad input never takes the proxy down)', () => {
    const shaped = fc.letrec((tie) => ({
      value: fc.oneof(
        { depthSize: 'small' },
        fc.constant(null),
        fc.boolean(),
        fc.integer(),
        fc.string({ maxLength: 8 }),
        fc.array(tie('value'), { maxLength: 3 }),
        fc.dictionary(
          fc.constantFrom(
            'protocol',
            'detect',
            'http1',
            'grpc',
            'opaque',
            'routes',
            'rules',
            'matches',
            'backends',
            'randomAvailable',
            'firstAvailable',
            'backend',
            'balancer',
            'forward',
            'timeouts',
            'retry',
            'filters',
            'path',
            'prefix',
            'regex',
            'weight',
            'metadata',
            'condition',
            'all',
            'any',
            'not',
            'status',
            'dstOverrides',
            'retryBudget',
            'failureAccrual',
            'consecutiveFailures',
          ),
          tie('value'),
          { maxKeys: 4 },
        ),
      ),
    })).value;
    const parent = {
      parent_group: '',
      parent_kind: '',
      parent_namespace: '',
      parent_name: 'x',
      parent_port: '',
      parent_section_name: '',
    };
    fc.assert(
      fc.property(shaped, (v) => {
        // The watch hands compilation only objects (null means "not found" and never gets here).
        fc.pre(typeof v === 'object' && v !== null && !Array.isArray(v));
        const plan = compilePolicy(v as unknown as outbound.OutboundPolicy, 'x', 80);
        plan.table.find(req('/a'));
        const prof = compileProfile(
          v as unknown as destination.DestinationProfile,
          'x.ns.svc.cluster.local:80',
          parent,
        );
        prof.table.find(req('/a'));
      }),
      { numRuns: 300 },
    );
  });
});

describe('compileProfile', () => {
  it('routes in order, classifies responses and splits by dst_overrides', () => {
    const profile = {
      routes: [
        {
          condition: {
            all: { matches: [{ method: { registered: 1 } }, { path: { regex: '/books/[0-9]+' } }] },
          },
          metricsLabels: { route: 'POST /books/{id}' },
          isRetryable: true,
          responseClasses: [{ condition: { status: { min: 502, max: 502 } }, isFailure: false }],
          timeout: d(250),
        },
      ],
      dstOverrides: [
        { authority: 'v1.ns.svc.cluster.local:80', weight: 900 },
        { authority: 'v2.ns.svc.cluster.local:80', weight: 100 },
      ],
    } as unknown as destination.DestinationProfile;
    expect(profileHasRouting(profile)).toBe(true);
    const parent = {
      parent_group: 'core',
      parent_kind: 'Service',
      parent_namespace: 'ns',
      parent_name: 'web',
      parent_port: '80',
      parent_section_name: '',
    };
    const plan = compileProfile(profile, 'web.ns.svc.cluster.local:80', parent);
    const hit = plan.table.find(req('/books/12', 'POST'));
    expect(hit?.route.labels.route_name).toBe('POST /books/{id}');
    const rule = hit?.route.rules[0];
    expect(rule?.timeouts.requestMs).toBe(250);
    expect(rule?.isFailure?.(502)).toBe(false);
    expect(rule?.isFailure?.(503)).toBe(true);
    expect(rule?.retry?.budget).toBeDefined();
    expect(
      rule?.backends.map((b) => [
        b.weight,
        b.backend.dispatch.kind === 'balancer' && b.backend.dispatch.path,
      ]),
    ).toEqual([
      [900, 'v1.ns.svc.cluster.local:80'],
      [100, 'v2.ns.svc.cluster.local:80'],
    ]);
    // Unmatched requests still follow the split.
    expect(plan.table.find(req('/elsewhere'))?.route.labels.route_kind).toBe('default');
  });
});
