// The stream table against a Map: random sequences of sets, deletes and lookups (ids in a narrow
// range, so probe runs collide, wrap around the end of the arrays and shift back on delete), then
// the behaviour a connection relies on.
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { StreamTable } from './stream-table.js';

type Op = { kind: 'set' | 'delete' | 'get'; id: number };

const op = (ids: fc.Arbitrary<number>): fc.Arbitrary<Op> =>
  fc.record({ kind: fc.constantFrom<Op['kind']>('set', 'set', 'delete', 'get'), id: ids });

function replay(ops: Op[]): void {
  const table = new StreamTable<string>();
  const model = new Map<number, string>();
  ops.forEach(({ kind, id }, n) => {
    if (kind === 'set') {
      table.set(id, `v${n}`);
      model.set(id, `v${n}`);
    } else if (kind === 'delete') {
      expect(table.delete(id)).toBe(model.delete(id));
    } else {
      expect(table.get(id)).toBe(model.get(id));
    }
    expect(table.size).toBe(model.size);
  });
  for (const [id, v] of model) expect(table.get(id)).toBe(v);
  expect(table.values().sort()).toEqual([...model.values()].sort());
}

describe('StreamTable', () => {
  it('agrees with a Map on random operations over colliding ids', () => {
    fc.assert(fc.property(fc.array(op(fc.integer({ min: 1, max: 70 })), { maxLength: 400 }), replay), {
      seed: 13,
      numRuns: 300,
    });
  });

  it('agrees with a Map on ids across the whole range, odd ones as a client opens them', () => {
    const id = fc.oneof(
      fc.integer({ min: 0, max: 200 }).map((n) => 2 * n + 1),
      fc.integer({ min: 1, max: 0x7fffffff }),
    );
    fc.assert(fc.property(fc.array(op(id), { maxLength: 300 }), replay), { seed: 7, numRuns: 200 });
  });

  it('keeps a connection’s pattern: ids rising, a window of them open, each closed soon', () => {
    const table = new StreamTable<number>();
    const open: number[] = [];
    for (let id = 1; id < 200_000; id += 2) {
      table.set(id, id);
      open.push(id);
      if (open.length > 10) expect(table.delete(open.shift()!)).toBe(true);
    }
    expect(table.size).toBe(10);
    for (const id of open) expect(table.get(id)).toBe(id);
    expect(table.get(1)).toBeUndefined();
  });

  it('grows past its first capacity and finds every entry', () => {
    const table = new StreamTable<number>();
    for (let id = 1; id <= 2001; id += 2) table.set(id, id * 10);
    expect(table.size).toBe(1001);
    for (let id = 1; id <= 2001; id += 2) expect(table.get(id)).toBe(id * 10);
    expect(table.get(2003)).toBeUndefined();
  });

  it('replaces the value of an id already there', () => {
    const table = new StreamTable<string>();
    table.set(5, 'a');
    table.set(5, 'b');
    expect(table.size).toBe(1);
    expect(table.get(5)).toBe('b');
  });

  it('clears, and lets go of every value', () => {
    const table = new StreamTable<object>();
    for (let id = 1; id < 40; id += 2) table.set(id, {});
    table.clear();
    expect(table.size).toBe(0);
    expect(table.values()).toEqual([]);
    expect(table.get(1)).toBeUndefined();
    expect(table.delete(1)).toBe(false);
  });

  it('hands out the values as a copy the caller may change the table under', () => {
    const table = new StreamTable<number>();
    for (let id = 1; id < 20; id += 2) table.set(id, id);
    for (const id of table.values()) table.delete(id);
    expect(table.size).toBe(0);
  });

  it('refuses ids outside 1 to 2^31-1', () => {
    const table = new StreamTable<number>();
    for (const bad of [0, -1, 2 ** 31, 1.5, Number.NaN]) {
      expect(() => table.set(bad, 1)).toThrow(RangeError);
    }
    expect(table.size).toBe(0);
  });
});
