import { expect, test } from 'vitest';
import { Topics } from './topics.js';

test('a slow reader sees the newest value, not every intermediate one; the last release drops the topic', async () => {
  const topics = new Topics<number>('test');
  let n = 0;
  const lease = topics.acquire(
    'k',
    () => n,
    (a, b) => a === b,
  );
  const other = topics.acquire(
    'k',
    () => -1,
    (a, b) => a === b,
  );
  expect(topics.size).toBe(1);
  const controller = new AbortController();
  const seen: number[] = [];
  const reading = (async () => {
    for await (const value of lease.value.subscribe(controller.signal)) {
      seen.push(value);
      if (value === 1000) break;
      await new Promise((r) => setTimeout(r, 20)); // slow reader
    }
  })();
  for (n = 1; n <= 1000; n++) {
    topics.refresh();
    if (n % 100 === 0) await new Promise((r) => setTimeout(r, 1));
  }
  n = 1000;
  topics.refresh();
  await reading;
  expect(seen[0]).toBe(0);
  expect(seen.at(-1)).toBe(1000);
  expect(seen.length).toBeLessThan(50);
  lease.release();
  lease.release();
  expect(topics.size).toBe(1);
  other.release();
  expect(topics.size).toBe(0);
});
