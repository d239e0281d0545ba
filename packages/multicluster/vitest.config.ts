import { tsmeshProject } from '../../vitest.shared.ts';

// Integration tests (test/integration) run against the real control plane of @tsmesh/testenv (the
// run's shared one is the local cluster; tests start a second one as the target cluster).
export default tsmeshProject('multicluster', {
  globalSetup: ['@tsmesh/testenv/vitest-global-setup'],
  testTimeout: 120_000,
  // The very first run on a machine builds the binaries (cached afterwards).
  hookTimeout: 45 * 60_000,
});
