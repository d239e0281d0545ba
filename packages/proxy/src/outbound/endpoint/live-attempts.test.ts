import { describe, expect, it } from 'vitest';
import { LiveAttempts, type RawHttp1Attempt } from './raw-http1-attempt.js';

/** A stand-in with the list's fields; terminate() leaves the list, as an attempt's end does. */
function fakeAttempt(live: LiveAttempts, name: string, ended: string[]): RawHttp1Attempt {
  const a = {
    isLive: false,
    livePrev: undefined,
    liveNext: undefined,
    terminate() {
      ended.push(name);
      live.delete(a as unknown as RawHttp1Attempt);
    },
  };
  return a as unknown as RawHttp1Attempt;
}

const names = (live: LiveAttempts, all: Map<RawHttp1Attempt, string>) => {
  const out: string[] = [];
  for (let a = live.head; a !== undefined; a = a.liveNext) out.push(all.get(a) as string);
  return out;
};

describe('LiveAttempts', () => {
  it('keeps the attempts in flight through their own fields and ends them all on close', () => {
    const live = new LiveAttempts();
    const ended: string[] = [];
    const all = new Map<RawHttp1Attempt, string>();
    const [a, b, c, d] = ['a', 'b', 'c', 'd'].map((n) => {
      const x = fakeAttempt(live, n, ended);
      all.set(x, n);
      live.add(x);
      return x;
    }) as [RawHttp1Attempt, RawHttp1Attempt, RawHttp1Attempt, RawHttp1Attempt];
    expect(names(live, all)).toEqual(['d', 'c', 'b', 'a']);
    live.delete(c); // middle
    live.delete(d); // head
    live.delete(a); // tail
    live.delete(a); // twice: no effect
    expect(names(live, all)).toEqual(['b']);
    expect(a.isLive).toBe(false);
    live.add(a);
    live.add(c);
    live.terminateAll();
    expect(ended.sort()).toEqual(['a', 'b', 'c']);
    expect(live.head).toBeUndefined();
    expect(b.livePrev).toBeUndefined();
    expect(b.liveNext).toBeUndefined();
  });
});
