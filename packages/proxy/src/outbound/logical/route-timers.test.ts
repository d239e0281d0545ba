import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import type { ProxyError } from '../../errors/index.js';
import { AbortHooks } from '../abort-hook.js';
import { RouteTimers } from './route-timers.js';

// Node's timers and the timers' clock move together (vi's fake Date/performance are not used:
// the clock is injected).
let now = 0;
const clock = () => now;
const advance = (ms: number) => {
  now += ms;
  vi.advanceTimersByTime(ms);
};

beforeEach(() => {
  vi.useFakeTimers({ toFake: ['setTimeout', 'clearTimeout'] });
  now = 1000;
});
afterEach(() => {
  vi.useRealTimers();
});

const codeOf = (e: unknown) => (e as ProxyError).code;

describe('RouteTimers', () => {
  it('expires the request timeout once, on time', () => {
    const expired: unknown[] = [];
    const t = new RouteTimers({
      requestMs: 100,
      idleMs: undefined,
      expire: (e) => expired.push(e),
      now: clock,
    });
    advance(99);
    expect(expired).toEqual([]);
    advance(1);
    expect(expired.map(codeOf)).toEqual(['REQUEST_TIMEOUT']);
    advance(1000);
    expect(expired).toHaveLength(1);
    t.stop();
  });

  it('restarts the idle timeout on activity; the earlier request timeout still wins', () => {
    const expired: unknown[] = [];
    const t = new RouteTimers({ requestMs: 500, idleMs: 100, expire: (e) => expired.push(e), now: clock });
    for (let i = 0; i < 6; i++) {
      advance(80);
      t.touch();
    }
    expect(expired).toEqual([]);
    advance(19);
    t.touch();
    advance(1); // 500 ms since the start
    expect(expired.map(codeOf)).toEqual(['REQUEST_TIMEOUT']);
    t.stop();
  });

  it('expires the idle timeout when nothing moves', () => {
    const expired: unknown[] = [];
    const t = new RouteTimers({
      requestMs: undefined,
      idleMs: 100,
      expire: (e) => expired.push(e),
      now: clock,
    });
    advance(60);
    t.touch();
    advance(99);
    expect(expired).toEqual([]);
    advance(1);
    expect(expired.map(codeOf)).toEqual(['IDLE_TIMEOUT']);
    t.stop();
  });

  it('aborts an attempt past its response timeout, and not one that ended in time', () => {
    const expired: unknown[] = [];
    const t = new RouteTimers({
      requestMs: 1000,
      idleMs: undefined,
      expire: (e) => expired.push(e),
      now: clock,
    });
    const first = new AbortHooks();
    t.startAttempt(first, 50);
    advance(49);
    t.endAttempt();
    advance(10);
    expect(first.aborted).toBe(false);
    const second = new AbortHooks();
    t.startAttempt(second, 50);
    advance(50);
    expect(second.aborted).toBe(true);
    expect(codeOf(second.reason)).toBe('RESPONSE_HEADERS_TIMEOUT');
    expect(expired).toEqual([]);
    advance(1000);
    expect(expired.map(codeOf)).toEqual(['REQUEST_TIMEOUT']);
    t.stop();
  });

  it('keeps one timer armed at a time and none after stop()', () => {
    const t = new RouteTimers({ requestMs: 1000, idleMs: 300, expire: () => undefined, now: clock });
    t.startAttempt(new AbortHooks(), 100);
    expect(vi.getTimerCount()).toBe(1);
    t.touch();
    t.endAttempt();
    expect(vi.getTimerCount()).toBe(1);
    t.stop();
    expect(vi.getTimerCount()).toBe(0);
  });
});
