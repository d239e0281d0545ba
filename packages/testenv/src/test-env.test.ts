import { expect, test } from 'vitest';
import { firstServiceIp } from './test-env.js';
import { isTestEnvError } from './test-env-error.js';

test('firstServiceIp is the first address of the CIDR (the kubernetes Service ClusterIP)', () => {
  expect(firstServiceIp('198.19.0.0/16')).toBe('198.19.0.1');
  expect(firstServiceIp('198.19.7.9/24')).toBe('198.19.7.1');
  expect(firstServiceIp('198.18.0.0/15')).toBe('198.18.0.1');
});

test('firstServiceIp rejects what is not an IPv4 CIDR', () => {
  for (const bad of ['198.19.0.0', 'fd00::/108', '300.1.1.1/16', '198.19.0.0/31']) {
    let caught: unknown;
    try {
      firstServiceIp(bad);
    } catch (err) {
      caught = err;
    }
    expect(isTestEnvError(caught) && caught.code === 'INVALID_ARGUMENT').toBe(true);
  }
});
