import { tsmeshProject } from '../../vitest.shared.ts';

// Integration tests (test/integration) run against the real control plane of @tsmesh/testenv,
// one per test run, shared with the other projects that list the same global setup.
export default tsmeshProject('policy', {
  globalSetup: ['@tsmesh/testenv/vitest-global-setup'],
  testTimeout: 90_000,
  // The very first run on a machine builds the binaries (cached afterwards).
  hookTimeout: 45 * 60_000,
});
