import { describe, expect, it } from 'vitest';
import { ProxyErrorCode } from '../errors/index.js';
import { createRecentErrors } from './index.js';

describe('recent errors', () => {
  it('keeps the newest entries, newest first, with the catalogue description', () => {
    const log = createRecentErrors(3);
    for (let i = 0; i < 5; i++) {
      log.record({
        code: ProxyErrorCode.Forbidden,
        direction: 'inbound',
        message: `deny ${i}`,
        rule: 'default:deny',
      });
    }
    const list = log.list();
    expect(list.map((e) => e.message)).toEqual(['deny 4', 'deny 3', 'deny 2']);
    expect(list[0]?.httpStatus).toBe(403);
    expect(list[0]?.description).toMatch(/authorization/);
    expect(log.total).toBe(5);
  });

  it('refuses a capacity below one', () => {
    expect(() => createRecentErrors(0)).toThrow(RangeError);
  });
});
