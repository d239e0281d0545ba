import { expect, test } from 'vitest';
import { toDnsLabel } from './test-namespace.js';

test('toDnsLabel turns test names into DNS labels', () => {
  expect(toDnsLabel('My Test_Name!')).toBe('my-test-name');
  expect(toDnsLabel('--x--')).toBe('x');
  expect(toDnsLabel('!!!')).toBe('test');
  expect(toDnsLabel('a'.repeat(80), 50)).toHaveLength(50);
  expect(toDnsLabel(`${'a'.repeat(49)}-b`, 50)).toBe('a'.repeat(49));
});
