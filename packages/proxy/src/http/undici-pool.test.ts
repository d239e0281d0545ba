import { Pool as EntryPool } from 'undici';
import { describe, expect, it } from 'vitest';
import { Pool } from './undici-pool.js';

describe('undici Pool import', () => {
  it('is the class the undici entry exports (same module instance)', () => {
    expect(Pool).toBe(EntryPool);
  });
});
