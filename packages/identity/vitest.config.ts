import { tsmeshProject } from '../../vitest.shared.ts';

// Integration tests run against a real kube-apiserver (TokenReview, Secret/ConfigMap watches).
export default tsmeshProject('identity', {
  globalSetup: ['@tsmesh/testenv/vitest-global-setup'],
  hookTimeout: 45 * 60_000, // the very first run on a machine builds the binaries
});
