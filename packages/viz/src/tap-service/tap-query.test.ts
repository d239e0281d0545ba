import { describe, expect, it } from 'vitest';
import { MeshError } from '@tsmesh/core';
import { observeMatch, parseTapQuery, parseTapTarget } from './tap-query.js';
import { tapResourceAttributes } from './tap-authorizer.js';

describe('tap query', () => {
  it('parses resources like linkerd (short and long names, namespaces)', () => {
    expect(parseTapTarget('deploy/web', 'emojivoto')).toEqual({
      type: 'deployment',
      name: 'web',
      namespace: 'emojivoto',
    });
    expect(parseTapTarget('ns/prod', 'default')).toEqual({
      type: 'namespace',
      name: 'prod',
      namespace: 'prod',
    });
    expect(parseTapTarget('statefulsets', 'x')).toEqual({ type: 'statefulset', namespace: 'x' });
    for (const bad of ['', 'deploy/', 'widgets/a', 'deploy/a/b'])
      expect(() => parseTapTarget(bad, 'x')).toThrow(MeshError);
  });

  it('validates and freezes the query; builds the proxy match', () => {
    const q = parseTapQuery({
      resource: 'deploy/web',
      namespace: 'emojivoto',
      toResource: 'svc/voting-svc',
      method: 'post',
      path: '/api',
      authority: 'web:80',
      scheme: 'http',
      maxRps: '10',
      extract: 'true',
    });
    expect(Object.isFrozen(q)).toBe(true);
    expect(q).toMatchObject({
      maxRps: 10,
      extract: true,
      method: 'POST',
      to: { type: 'service', name: 'voting-svc', namespace: 'emojivoto' },
    });
    expect(observeMatch(q)).toEqual({
      all: {
        matches: [
          { http: { scheme: { registered: 0 } } },
          { http: { method: { registered: 1 } } },
          { http: { authority: { exact: 'web:80' } } },
          { http: { path: { prefix: '/api' } } },
        ],
      },
    });
    expect(parseTapQuery({ resource: 'po' }).maxRps).toBe(100);
    for (const bad of [
      { maxRps: '0' },
      { maxRps: 'x' },
      { scheme: 'ftp' },
      { path: 'api' },
      { resource: 'svc/a' },
    ])
      expect(() => parseTapQuery({ resource: 'deploy/web', ...bad })).toThrow(MeshError);
  });

  it('asks RBAC what linkerd-viz asks: watch <type>s/tap in tap.linkerd.io', () => {
    expect(tapResourceAttributes(parseTapTarget('deploy/web', 'emojivoto'))).toEqual({
      namespace: 'emojivoto',
      verb: 'watch',
      group: 'tap.linkerd.io',
      version: 'v1alpha1',
      resource: 'deployments',
      subresource: 'tap',
      name: 'web',
    });
    expect(tapResourceAttributes(parseTapTarget('ns/prod', 'default'))).toMatchObject({
      namespace: 'prod',
      resource: 'namespaces',
    });
  });
});
