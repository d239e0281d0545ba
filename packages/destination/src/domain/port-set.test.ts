import { expect, test } from 'vitest';
import { parsePortSet } from './port-set.js';

test('ports, ranges, names and invalid items', () => {
  const parsed = parsePortSet('25, 3306-3308,http,,0,70000,5-3,!x');
  expect([...parsed.ports].sort((a, b) => a - b)).toEqual([25, 3306, 3307, 3308]);
  expect(parsed.names).toEqual(['http']);
  expect(parsed.invalid).toEqual(['0', '70000', '5-3', '!x']);
});
