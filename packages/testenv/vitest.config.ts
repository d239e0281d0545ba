import { tsmeshProject } from '../../vitest.shared.ts';

// The integration tests run against the real control plane this package starts; one per run.
export default tsmeshProject('testenv', {
  globalSetup: ['./src/vitest-global-setup.ts'],
  testTimeout: 60_000,
  // Building the binaries cold takes 10-30 min (cached afterwards); startup itself ~10 s.
  hookTimeout: 45 * 60_000,
});
