import type { KubeObject } from '@tsmesh/kube';
import { describe, expect, it } from 'vitest';
import { authorizationRows } from './authorizations.js';
import { formatAuthorizations } from './index.js';

const obj = (kind: string, name: string, spec: unknown, labels?: Record<string, string>): KubeObject =>
  ({ kind, metadata: { name, namespace: 'shop', labels }, spec }) as KubeObject;

const pods = [obj('Pod', 'web-0', {}, { app: 'web' })];
const servers = [
  obj('Server', 'web-http', { podSelector: { matchLabels: { app: 'web' } }, port: 8080 }, { tier: 'front' }),
  obj('Server', 'web-admin', {
    podSelector: { matchExpressions: [{ key: 'app', operator: 'In', values: ['web'] }] },
    port: 9990,
  }),
  obj('Server', 'db', { podSelector: { matchLabels: { app: 'db' } }, port: 5432 }),
];

describe('authorizationRows', () => {
  it('lists what applies to the Servers selecting the pods, by server and route', () => {
    const rows = authorizationRows({
      namespace: 'shop',
      pods,
      servers,
      serverAuthorizations: [
        obj('ServerAuthorization', 'by-name', { server: { name: 'web-http' } }),
        obj('ServerAuthorization', 'by-selector', {
          server: { selector: { matchLabels: { tier: 'front' } } },
        }),
        obj('ServerAuthorization', 'for-db', { server: { name: 'db' } }),
      ],
      authorizationPolicies: [
        obj('AuthorizationPolicy', 'server-ap', {
          targetRef: { group: 'policy.linkerd.io', kind: 'Server', name: 'web-admin' },
        }),
        obj('AuthorizationPolicy', 'ns-ap', { targetRef: { kind: 'Namespace', name: 'shop' } }),
        obj('AuthorizationPolicy', 'route-ap', {
          targetRef: { group: 'policy.linkerd.io', kind: 'HTTPRoute', name: 'api' },
        }),
        obj('AuthorizationPolicy', 'other-ns', { targetRef: { kind: 'Namespace', name: 'elsewhere' } }),
      ],
      routes: [
        obj('HTTPRoute', 'api', {
          parentRefs: [{ group: 'policy.linkerd.io', kind: 'Server', name: 'web-http' }],
        }),
      ],
    });
    expect(formatAuthorizations(rows, 'table')).toBe(
      [
        'ROUTE   SERVER      AUTHORIZATION_POLICY   SERVER_AUTHORIZATION',
        '*       web-admin   ns-ap',
        '*       web-admin   server-ap',
        '*       web-http                           by-name',
        '*       web-http                           by-selector',
        '*       web-http    ns-ap',
        'api     web-http    route-ap',
        '',
      ].join('\n'),
    );
  });

  it('has no rows when no Server selects the pods', () => {
    expect(
      authorizationRows({
        namespace: 'shop',
        pods,
        servers: [servers[2]!],
        serverAuthorizations: [],
        authorizationPolicies: [],
        routes: [],
      }),
    ).toEqual([]);
  });
});
