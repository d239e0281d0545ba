import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import type { ProxyError } from '../../errors/index.js';
import { AbortHooks } from '../abort-hook.js';
import { DeadlineQueue, RouteTimers } from './route-timers.js';

// Node's timers and the timers' clock move together (vi's fake Date/performance are not used:
// the clock is injected).
let now = 0;
const clock = () => now;
const advance = (ms: number) => {
  now += ms;
  vi.advanceTimersByTime(ms);
};

let queue: DeadlineQueue;

beforeEach(() => {
  vi.useFakeTimers({ toFake: ['setTimeout', 'clearTimeout'] });
  now = 1000;
  queue = new DeadlineQueue(clock);
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
      queue,
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
    const t = new RouteTimers({ requestMs: 500, idleMs: 100, expire: (e) => expired.push(e), queue });
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
      queue,
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
      queue,
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

  it('keeps one timer armed at a time; after stop() it fires once and nothing re-arms', () => {
    const t = new RouteTimers({ requestMs: 1000, idleMs: 300, expire: () => undefined, queue });
    t.startAttempt(new AbortHooks(), 100);
    expect(vi.getTimerCount()).toBe(1);
    t.touch();
    t.endAttempt();
    expect(vi.getTimerCount()).toBe(1);
    t.stop();
    expect(queue.size).toBe(0);
    advance(100);
    expect(vi.getTimerCount()).toBe(0);
  });

  it('shares one timer between exchanges: each expires on time, whatever the order of their deadlines', () => {
    const expired: string[] = [];
    const timers = [700, 300, 500, 100, 900, 200].map(
      (ms) =>
        new RouteTimers({
          requestMs: ms,
          idleMs: undefined,
          expire: () => expired.push(`${ms}@${now - 1000}`),
          queue,
        }),
    );
    expect(vi.getTimerCount()).toBe(1);
    (timers[2] as RouteTimers).stop(); // the 500 ms one ends first
    for (let i = 0; i < 100; i++) advance(10);
    expect(expired).toEqual(['100@100', '200@200', '300@300', '700@700', '900@900']);
    expect(queue.size).toBe(0);
    expect(vi.getTimerCount()).toBe(0);
  });

  it('a deadline earlier than the armed one re-arms the timer; one removed before it fires harmlessly', () => {
    const expired: string[] = [];
    const slow = new RouteTimers({
      requestMs: 1000,
      idleMs: undefined,
      expire: () => expired.push('slow'),
      queue,
    });
    const early = new RouteTimers({
      requestMs: 50,
      idleMs: undefined,
      expire: () => expired.push('early'),
      queue,
    });
    advance(50);
    expect(expired).toEqual(['early']);
    slow.stop();
    early.stop();
    const later = new RouteTimers({
      requestMs: 2000,
      idleMs: undefined,
      expire: () => expired.push('later'),
      queue,
    });
    advance(1999);
    expect(expired).toEqual(['early']);
    advance(1);
    expect(expired).toEqual(['early', 'later']);
    later.stop();
  });
});
