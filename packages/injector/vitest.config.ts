import { tsmeshProject } from '../../vitest.shared.ts';

// Integration tests (test/integration) run the webhook behind the real kube-apiserver of
// @tsmesh/testenv, one per test run, shared with the other projects that list the same setup.
export default tsmeshProject('injector', {
  globalSetup: ['@tsmesh/testenv/vitest-global-setup'],
  testTimeout: 60_000,
  hookTimeout: 45 * 60_000,
});
