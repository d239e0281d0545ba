import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { applyJsonPatch, diffJson } from './json-patch.js';

describe('diffJson', () => {
  it('adds keys, inserts array items in place and escapes pointers', () => {
    const from = { metadata: { labels: { app: 'a' } }, spec: { containers: [{ name: 'app' }] } };
    const to = {
      metadata: { labels: { app: 'a', 'linkerd.io/control-plane-ns': 'linkerd' } },
      spec: { containers: [{ name: 'linkerd-proxy' }, { name: 'app' }], volumes: [{ name: 'v' }] },
    };
    expect(diffJson(from, to)).toEqual([
      { op: 'add', path: '/metadata/labels/linkerd.io~1control-plane-ns', value: 'linkerd' },
      { op: 'add', path: '/spec/containers/0', value: { name: 'linkerd-proxy' } },
      { op: 'add', path: '/spec/volumes', value: [{ name: 'v' }] },
    ]);
  });

  it('removes keys and replaces arrays it cannot express as inserts', () => {
    expect(diffJson({ a: 1, b: [1, 2] }, { b: [2, 1] })).toEqual([
      { op: 'remove', path: '/a' },
      { op: 'replace', path: '/b', value: [2, 1] },
    ]);
    expect(diffJson({ a: 1 }, { a: 1 })).toEqual([]);
  });

  it('treats a key named __proto__ as a member, not as the prototype', () => {
    // fast-check found it (seed -390733920): the patch added the key, applying it set the prototype.
    const to = JSON.parse('{"__proto__": false, "a": {"__proto__": {"b": 1}}}') as unknown;
    const patch = diffJson({ a: {} }, to);
    expect(patch).toEqual([
      { op: 'add', path: '/__proto__', value: false },
      { op: 'add', path: '/a/__proto__', value: { b: 1 } },
    ]);
    const patched = applyJsonPatch({ a: {} }, patch) as Record<string, unknown>;
    expect(patched).toEqual(to);
    expect(Object.getPrototypeOf(patched)).toBe(Object.prototype);
    expect(Object.hasOwn(patched.a as object, '__proto__')).toBe(true);
  });

  it('always produces a patch that turns one document into the other', () => {
    const json = fc.jsonValue({ maxDepth: 4 });
    fc.assert(
      fc.property(json, json, (a, b) => {
        expect(applyJsonPatch(a, diffJson(a, b))).toEqual(b);
      }),
      { numRuns: 500 },
    );
  });
});
