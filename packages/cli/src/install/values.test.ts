import { describe, expect, it } from 'vitest';
import { mergeValues, parseSetFlag } from './values.js';

describe('mergeValues', () => {
  it('merges objects key by key; arrays and scalars replace', () => {
    const base = { a: { b: 1, c: [1, 2] }, d: 'x' };
    expect(mergeValues(base, { a: { c: [3] } }, { d: 'y', e: true })).toEqual({
      a: { b: 1, c: [3] },
      d: 'y',
      e: true,
    });
    expect(base).toEqual({ a: { b: 1, c: [1, 2] }, d: 'x' });
  });

  it('keeps a key named __proto__ as a member, never as the prototype', () => {
    const overlay = JSON.parse('{"__proto__": {"polluted": true}, "a": {"__proto__": 1}}') as unknown;
    const merged = mergeValues({ a: {} } as Record<string, unknown>, overlay, parseSetFlag('__proto__.x=2'));
    expect(Object.getPrototypeOf(merged)).toBe(Object.prototype);
    expect((merged as { polluted?: unknown }).polluted).toBeUndefined();
    expect(Object.hasOwn(merged, '__proto__')).toBe(true);
    expect(Object.getOwnPropertyDescriptor(merged, '__proto__')?.value).toEqual({ polluted: true, x: 2 });
    expect(Object.getOwnPropertyDescriptor(merged.a, '__proto__')?.value).toBe(1);
  });
});
