// The lean AsyncResource.prototype.bind behaves as Node's: the same calls, async scope, `length`,
// the `asyncResource` accessor and Node's error for a non-function. Each test restores Node's bind.
import { AsyncResource, executionAsyncId } from 'node:async_hooks';
import { afterEach, describe, expect, it } from 'vitest';
import { asyncResourceBindAllocatesAccessors, installAsyncResourceBind } from './async-resource-bind.js';

const nodeBind = AsyncResource.prototype.bind;

/** Node's typings know neither bind's thisArg nor the `asyncResource` property it adds. */
type BoundFn = ((...args: unknown[]) => unknown) & { asyncResource: unknown };
const bindOf = (resource: AsyncResource, fn: (...args: never[]) => unknown, thisArg?: unknown): BoundFn =>
  (resource.bind as (fn: unknown, thisArg?: unknown) => BoundFn).call(resource, fn, thisArg);
afterEach(() => {
  AsyncResource.prototype.bind = nodeBind;
});

function behaviour() {
  const resource = new AsyncResource('test-resource');
  const seen: { self: unknown; args: unknown[]; asyncId: number }[] = [];
  function target(this: unknown, a: unknown, b: unknown) {
    seen.push({ self: this, args: [a, b], asyncId: executionAsyncId() });
    return 'result';
  }
  const bound = bindOf(resource, target);
  const holder = { method: bound };
  const withThis = bindOf(resource, target, 'this-arg');
  const other = new AsyncResource('other');
  const results = [holder.method(1, 2), withThis(3, 4)];
  const before = bound.asyncResource === resource;
  bound.asyncResource = other;
  return {
    results,
    selves: seen.map((s) => (s.self === holder ? 'holder' : s.self)),
    args: seen.map((s) => s.args),
    inScope: seen.map((s) => s.asyncId === resource.asyncId()),
    length: [bound.length, withThis.length],
    accessorReadsResource: before,
    accessorWrites: bound.asyncResource === other,
    enumerable: Object.keys(bound),
    staticBind: AsyncResource.bind((x: number) => x * 2)(21),
  };
}

describe('installAsyncResourceBind', () => {
  it('reading asyncResource is still deprecated (DEP0172), warned once', async () => {
    installAsyncResourceBind();
    const warnings: Error[] = [];
    const onWarning = (w: Error) => warnings.push(w);
    process.on('warning', onWarning);
    try {
      const resource = new AsyncResource('test-resource');
      const bound = bindOf(resource, () => undefined);
      expect(bound.asyncResource).toBe(resource);
      expect(bound.asyncResource).toBe(resource);
      await new Promise((r) => setTimeout(r, 20));
    } finally {
      process.off('warning', onWarning);
    }
    const dep = warnings.filter((w) => (w as { code?: string }).code === 'DEP0172');
    // First in this file: neither Node's getter nor ours has been read, so exactly one warning.
    expect(dep).toHaveLength(process.noDeprecation ? 0 : 1);
    for (const w of dep) expect(w.message).toMatch(/asyncResource property on bound functions is deprecated/);
  });

  it("keeps Node's behaviour of bound functions", () => {
    const withNode = behaviour();
    expect(withNode.inScope).toEqual([true, true]);
    const nodeMakesAccessors = asyncResourceBindAllocatesAccessors();
    expect(installAsyncResourceBind()).toBe(nodeMakesAccessors);
    const withLean = behaviour();
    expect(withLean).toEqual(withNode);
    expect(withLean.selves).toEqual(['holder', 'this-arg']);
    expect(withLean.length).toEqual([2, 2]);
  });

  it("refuses a non-function with Node's error", () => {
    installAsyncResourceBind();
    const resource = new AsyncResource('test-resource');
    expect(() => resource.bind(42 as unknown as () => void)).toThrow(
      expect.objectContaining({ code: 'ERR_INVALID_ARG_TYPE' }),
    );
  });

  it('installs once, and no per-call accessor is left to replace', () => {
    const nodeMakesAccessors = asyncResourceBindAllocatesAccessors();
    expect(installAsyncResourceBind()).toBe(nodeMakesAccessors);
    expect(asyncResourceBindAllocatesAccessors()).toBe(false);
    expect(installAsyncResourceBind()).toBe(false);
    // Every bound function shares one getter: nothing allocated per call beyond the wrapper.
    const resource = new AsyncResource('test-resource');
    const a = Object.getOwnPropertyDescriptor(
      resource.bind(() => 1),
      'asyncResource',
    );
    const b = Object.getOwnPropertyDescriptor(
      resource.bind(() => 2),
      'asyncResource',
    );
    expect(a?.get).toBe(b?.get);
  });
});
