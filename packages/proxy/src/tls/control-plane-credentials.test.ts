import { describe, expect, it } from 'vitest';
import { isLoopbackHost } from './control-plane-credentials.js';

describe('isLoopbackHost', () => {
  it('takes localhost, also fully qualified as in the identity pod (localhost.:8080), and loopback literals', () => {
    for (const h of [
      'localhost',
      'localhost.',
      'LOCALHOST.',
      '127.0.0.1',
      '127.1.2.3',
      '::1',
      '[::1]',
      '::ffff:127.0.0.1',
    ]) {
      expect(isLoopbackHost(h), h).toBe(true);
    }
  });
  it('refuses other names and addresses', () => {
    for (const h of [
      'linkerd-identity-headless.linkerd.svc.cluster.local.',
      'localhost.example.',
      '198.18.0.3',
      '::2',
    ]) {
      expect(isLoopbackHost(h), h).toBe(false);
    }
  });
});
