import { describe, expect, it } from 'vitest';
import type { HttpRouteMatch, RequestRedirect } from './model.js';
import { applyHeaderModifier, redirectFor } from './request-filters.js';

const redirect = (r: Partial<RequestRedirect>): RequestRedirect => ({
  scheme: undefined,
  hostname: undefined,
  path: undefined,
  port: undefined,
  statusCode: 302,
  ...r,
});
const prefix = (value: string): HttpRouteMatch => ({
  path: { type: 'PathPrefix', value },
  headers: [],
  queryParams: [],
  method: undefined,
});

describe('RequestHeaderModifier', () => {
  it('adds, then sets, then removes; names are case-insensitive', () => {
    const out = applyHeaderModifier(
      { 'X-Keep': 'a', 'X-Set': ['1', '2'], 'X-Drop': 'z' },
      { add: [{ name: 'x-keep', value: 'b' }], set: [{ name: 'X-SET', value: '3' }], remove: ['x-drop'] },
    );
    expect(out).toEqual({ 'x-keep': ['a', 'b'], 'x-set': ['3'] });
  });
});

describe('RequestRedirect', () => {
  it('keeps what it does not override', () => {
    expect(
      redirectFor(redirect({ hostname: 'new.test' }), { host: 'old.test:8080', path: '/a?b=1' }, prefix('/')),
    ).toEqual({
      statusCode: 302,
      location: 'http://new.test:8080/a?b=1',
    });
  });

  it('a scheme change drops the old port; default ports are omitted', () => {
    expect(
      redirectFor(redirect({ scheme: 'https' }), { host: 'web.test:8080', path: '/' }, undefined).location,
    ).toBe('https://web.test/');
    expect(
      redirectFor(redirect({ port: 443, scheme: 'https' }), { host: 'web.test', path: '/' }, undefined)
        .location,
    ).toBe('https://web.test/');
    expect(
      redirectFor(redirect({ port: 8443, scheme: 'https' }), { host: 'web.test', path: '/' }, undefined)
        .location,
    ).toBe('https://web.test:8443/');
  });

  it('replaces the full path or the matched prefix', () => {
    expect(
      redirectFor(
        redirect({ path: { type: 'ReplaceFullPath', value: '/x' } }),
        { host: 'h', path: '/a/b' },
        prefix('/a'),
      ).location,
    ).toBe('http://h/x');
    expect(
      redirectFor(
        redirect({ path: { type: 'ReplacePrefixMatch', value: '/v2' } }),
        { host: 'h', path: '/v1/items' },
        prefix('/v1'),
      ).location,
    ).toBe('http://h/v2/items');
    expect(
      redirectFor(
        redirect({ path: { type: 'ReplacePrefixMatch', value: '/v2' } }),
        { host: 'h', path: '/v1' },
        prefix('/v1/'),
      ).location,
    ).toBe('http://h/v2');
    expect(
      redirectFor(
        redirect({ path: { type: 'ReplacePrefixMatch', value: '/new/' } }),
        { host: 'h', path: '/x/y' },
        prefix('/'),
      ).location,
    ).toBe('http://h/new/x/y');
  });
});
