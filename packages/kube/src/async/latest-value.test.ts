import { describe, expect, it } from 'vitest';
import { LatestValue } from './latest-value.js';
import { linkedAbortController, sleep } from './sleep.js';

describe('LatestValue', () => {
  it('gives the current value, then only the newest after changes a reader missed', async () => {
    const cell = new LatestValue(1);
    const seen: number[] = [];
    const iterator = cell.subscribe()[Symbol.asyncIterator]();
    seen.push((await iterator.next()).value as number);
    cell.set(2);
    cell.set(3);
    cell.set(4);
    seen.push((await iterator.next()).value as number);
    expect(seen).toEqual([1, 4]);
    const pending = iterator.next();
    cell.set(5);
    expect((await pending).value).toBe(5);
    cell.close();
    expect((await iterator.next()).done).toBe(true);
  });

  it('waits for a first value and ends on abort', async () => {
    const cell = new LatestValue<string>();
    const controller = new AbortController();
    const iterator = cell.subscribe(controller.signal)[Symbol.asyncIterator]();
    const first = iterator.next();
    cell.set('a');
    expect((await first).value).toBe('a');
    const second = iterator.next();
    controller.abort();
    expect((await second).done).toBe(true);
  });

  it('each subscriber sees the value independently', async () => {
    const cell = new LatestValue(0);
    const a = cell.subscribe()[Symbol.asyncIterator]();
    const b = cell.subscribe()[Symbol.asyncIterator]();
    expect((await a.next()).value).toBe(0);
    cell.set(7);
    expect((await b.next()).value).toBe(7);
    expect((await a.next()).value).toBe(7);
  });
});

describe('sleep and linkedAbortController', () => {
  it('sleep resolves true after the time, false on abort', async () => {
    expect(await sleep(1)).toBe(true);
    const c = new AbortController();
    const p = sleep(60_000, c.signal);
    c.abort();
    expect(await p).toBe(false);
  });

  it('a linked controller aborts with its parent and removes its listener on dispose', async () => {
    const parent = new AbortController();
    const child = linkedAbortController(parent.signal);
    parent.abort('bye');
    expect(child.signal.aborted).toBe(true);
    expect(child.signal.reason).toBe('bye');
    const other = new AbortController();
    const child2 = linkedAbortController(other.signal);
    child2.dispose();
    other.abort();
    expect(child2.signal.aborted).toBe(false);
  });
});
