import { Pool as EntryPool } from 'undici';
import { createRequire } from 'node:module';
import { describe, expect, it, vi } from 'vitest';
import { undiciPool } from './undici-pool.js';

describe('undici Pool import', () => {
  it('is the class the undici entry exports (same module instance)', () => {
    expect(undiciPool()).toBe(EntryPool);
  });

  it('has request() even where the undici entry was never loaded (the entry adds it to the prototype)', async () => {
    // This test process loaded the entry (above); take its methods away again, as a proxy process
    // that loads only the Pool's module has it, and load undici-pool.ts anew.
    const proto = (
      createRequire(import.meta.url)('undici/lib/dispatcher/dispatcher.js') as {
        prototype: Record<string, unknown>;
      }
    ).prototype;
    const saved = { request: proto.request, stream: proto.stream };
    delete proto.request;
    delete proto.stream;
    try {
      vi.resetModules();
      const fresh = (await import('./undici-pool.js')) as { undiciPool: typeof undiciPool };
      const FreshPool = fresh.undiciPool();
      const pool = new FreshPool('http://127.0.0.1:9');
      expect(typeof pool.request).toBe('function');
      expect(typeof pool.stream).toBe('function');
      await pool.close();
    } finally {
      proto.request ??= saved.request;
      proto.stream ??= saved.stream;
    }
  });
});
