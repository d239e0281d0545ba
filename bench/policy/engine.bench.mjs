#!/usr/bin/env node
// Policy engine evaluations per second on one core: one Server port with 100 HTTPRoutes and 50
// AuthorizationPolicies (25 on routes, 25 on the Server), clients and requests rotating through
// allowed, denied, route-not-found and late-matching cases. Target (issue 7): ≥ 200,000/s.
// Run: `taskset -c 0 node bench/policy/engine.bench.mjs` (after building @tsmesh/core).
import { createPolicyIndex, evaluate, parsePolicyResources } from '@tsmesh/core';

const NS = 'bench';
const id = (sa) => `${sa}.${NS}.serviceaccount.identity.linkerd.cluster.local`;
const objects = [
  {
    apiVersion: 'v1',
    kind: 'Pod',
    metadata: { name: 'web-0', namespace: NS, labels: { app: 'web' } },
    spec: { containers: [{ name: 'app', ports: [{ name: 'http', containerPort: 8080 }] }] },
  },
  {
    apiVersion: 'policy.linkerd.io/v1beta3',
    kind: 'Server',
    metadata: { name: 'web-http', namespace: NS },
    spec: { podSelector: { matchLabels: { app: 'web' } }, port: 'http', proxyProtocol: 'HTTP/1' },
  },
];
for (let i = 0; i < 100; i++) {
  const kinds = ['PathPrefix', 'Exact', 'PathPrefix', 'RegularExpression'];
  const type = kinds[i % 4];
  const value =
    type === 'RegularExpression'
      ? `/svc${i}/[a-z]+/[0-9]+`
      : `/svc${i}/${type === 'Exact' ? 'exact' : 'items'}`;
  objects.push({
    apiVersion: 'policy.linkerd.io/v1beta3',
    kind: 'HTTPRoute',
    metadata: {
      name: `route-${i}`,
      namespace: NS,
      creationTimestamp: new Date(Date.UTC(2025, 0, 1, 0, i)).toISOString(),
    },
    spec: {
      parentRefs: [{ group: 'policy.linkerd.io', kind: 'Server', name: 'web-http' }],
      rules: [
        {
          matches: [
            { path: { type, value }, ...(i % 3 === 0 ? { method: 'POST' } : {}) },
            ...(i % 5 === 0
              ? [
                  {
                    path: { type: 'PathPrefix', value: `/v${i}` },
                    headers: [{ name: 'x-tenant', value: `t${i}` }],
                  },
                ]
              : []),
          ],
        },
      ],
    },
  });
}
for (let i = 0; i < 25; i++) {
  objects.push({
    apiVersion: 'policy.linkerd.io/v1alpha1',
    kind: 'MeshTLSAuthentication',
    metadata: { name: `ids-${i}`, namespace: NS },
    spec: {
      identities: [
        id(`client-${i}`),
        id(`client-${i + 25}`),
        `*.team${i}.serviceaccount.identity.linkerd.cluster.local`,
      ],
    },
  });
  objects.push({
    apiVersion: 'policy.linkerd.io/v1alpha1',
    kind: 'AuthorizationPolicy',
    metadata: { name: `route-authz-${i}`, namespace: NS },
    spec: {
      targetRef: { group: 'policy.linkerd.io', kind: 'HTTPRoute', name: `route-${i * 4}` },
      requiredAuthenticationRefs: [
        { group: 'policy.linkerd.io', kind: 'MeshTLSAuthentication', name: `ids-${i}` },
      ],
    },
  });
  objects.push({
    apiVersion: 'policy.linkerd.io/v1alpha1',
    kind: 'NetworkAuthentication',
    metadata: { name: `net-${i}`, namespace: NS },
    spec: {
      networks: [{ cidr: `10.${i}.0.0/16`, except: [`10.${i}.255.0/24`] }, { cidr: `fd00:${i}::/32` }],
    },
  });
  objects.push({
    apiVersion: 'policy.linkerd.io/v1alpha1',
    kind: 'AuthorizationPolicy',
    metadata: { name: `server-authz-${i}`, namespace: NS },
    spec: {
      targetRef: { group: 'policy.linkerd.io', kind: 'Server', name: 'web-http' },
      requiredAuthenticationRefs: [
        { group: 'policy.linkerd.io', kind: 'NetworkAuthentication', name: `net-${i}` },
        { group: '', kind: 'ServiceAccount', name: `server-client-${i}` },
      ],
    },
  });
}

const index = createPolicyIndex(parsePolicyResources(objects));
const target = { namespace: NS, workload: 'web-0', port: 8080 };
const cases = [
  {
    client: { ip: '10.0.3.4', identity: id('client-0') },
    request: { method: 'POST', path: '/svc0/items/1' },
  },
  {
    client: { ip: '10.24.3.4', identity: id('server-client-24') },
    request: { method: 'GET', path: '/svc98/items' },
  },
  { client: { ip: '198.18.0.9' }, request: { method: 'GET', path: '/svc50/items' } },
  { client: { ip: '10.7.1.1', identity: id('x') }, request: { method: 'GET', path: '/nowhere' } },
  {
    client: { ip: '10.96.1.1', identity: 'a.team24.serviceaccount.identity.linkerd.cluster.local' },
    request: { method: 'POST', path: '/svc96/items/9?x=1' },
  },
  {
    client: { ip: '10.11.0.1', identity: id('server-client-11') },
    request: { method: 'POST', path: '/svc99/abc/42' },
  },
  {
    client: { ip: '10.20.1.1', identity: id('client-20') },
    request: { method: 'GET', path: '/v80/x', headers: { 'x-tenant': 't80' } },
  },
  {
    client: { ip: '10.5.255.1', identity: id('server-client-5') },
    request: { method: 'GET', path: '/svc41/exact' },
  },
].map((c) => ({ ...c, target }));

const summary = cases.map((c) => {
  const d = evaluate(c, index);
  return `${d.decision.padEnd(5)} ${d.reason.padEnd(15)} ${(d.route?.name ?? '-').padEnd(10)} ${d.authorization ? `${d.authorization.kind}/${d.authorization.name}` : '-'}`;
});

function run(n) {
  let allowed = 0;
  const t0 = process.hrtime.bigint();
  for (let i = 0; i < n; i++) if (evaluate(cases[i & 7], index).decision === 'allow') allowed++;
  return { seconds: Number(process.hrtime.bigint() - t0) / 1e9, allowed };
}

run(50_000); // warm up
const rounds = [];
for (let r = 0; r < 5; r++) {
  const n = 400_000;
  const { seconds } = run(n);
  rounds.push(n / seconds);
}
rounds.sort((a, b) => a - b);
console.log('cases (decision, reason, route, authorization):');
for (const line of summary) console.log(`  ${line}`);
console.log(`routes 100, authorization policies 50, cases ${cases.length}, node ${process.version}`);
console.log(
  `evaluations/s: median ${Math.round(rounds[2]).toLocaleString('en-US')} (min ${Math.round(rounds[0]).toLocaleString('en-US')}, max ${Math.round(rounds[4]).toLocaleString('en-US')})`,
);
