import { describe, expect, it, vi } from 'vitest';
import { abortHookOf, AbortHooks, ChildAbortHooks } from './abort-hook.js';

describe('AbortHooks', () => {
  it('calls each listener once with the reason set, and none that was removed', () => {
    const hook = new AbortHooks();
    const seen: unknown[] = [];
    const a = vi.fn(() => seen.push(hook.reason));
    const b = vi.fn();
    const c = vi.fn();
    hook.addListener(a);
    hook.addListener(b);
    hook.addListener(c);
    hook.removeListener(b);
    expect(hook.abort('first')).toBe(true);
    expect(hook.abort('second')).toBe(false);
    expect(a).toHaveBeenCalledTimes(1);
    expect(b).not.toHaveBeenCalled();
    expect(c).toHaveBeenCalledTimes(1);
    expect(seen).toEqual(['first']);
    expect(hook.aborted).toBe(true);
    expect(hook.reason).toBe('first');
  });

  it('keeps no listener added after it aborted, and frees the ones it called', () => {
    const hook = new AbortHooks();
    hook.addListener(() => undefined);
    hook.abort(new Error('gone'));
    const late = vi.fn();
    hook.addListener(late);
    expect(hook.abort('again')).toBe(false);
    expect(late).not.toHaveBeenCalled();
  });

  it('reuses its first slot: add, remove, add again calls only the last listener', () => {
    const hook = new AbortHooks();
    const a = vi.fn();
    const b = vi.fn();
    hook.addListener(a);
    hook.removeListener(a);
    hook.addListener(b);
    hook.abort('x');
    expect(a).not.toHaveBeenCalled();
    expect(b).toHaveBeenCalledTimes(1);
  });
});

describe('ChildAbortHooks', () => {
  it('follows its parent until detached, and aborts alone without touching the parent', () => {
    const parent = new AbortHooks();
    const child = new ChildAbortHooks(parent);
    const onChild = vi.fn();
    child.addListener(onChild);
    parent.abort('parent reason');
    expect(child.aborted).toBe(true);
    expect(child.reason).toBe('parent reason');
    expect(onChild).toHaveBeenCalledTimes(1);

    const parent2 = new AbortHooks();
    const alone = new ChildAbortHooks(parent2);
    alone.abort('response timeout');
    alone.detach();
    expect(parent2.aborted).toBe(false);
    const detached = new ChildAbortHooks(parent2);
    detached.detach();
    parent2.abort('late');
    expect(detached.aborted).toBe(false);
  });

  it('starts aborted under an aborted parent', () => {
    const parent = new AbortHooks();
    parent.abort('done');
    const child = new ChildAbortHooks(parent);
    expect(child.aborted).toBe(true);
    expect(child.reason).toBe('done');
  });
});

describe('abortHookOf', () => {
  it('reports an AbortSignal through the hook interface', () => {
    const controller = new AbortController();
    const hook = abortHookOf(controller.signal);
    const a = vi.fn();
    const b = vi.fn();
    hook.addListener(a);
    hook.addListener(b);
    hook.removeListener(b);
    expect(hook.aborted).toBe(false);
    controller.abort('why');
    expect(hook.aborted).toBe(true);
    expect(hook.reason).toBe('why');
    expect(a).toHaveBeenCalledTimes(1);
    expect(b).not.toHaveBeenCalled();
  });
});
