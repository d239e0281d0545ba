import { defineConfig } from 'vitest/config';

// One root config; each package is a project with its own vitest.config.ts.
// Tests run against source: the `tsmesh-source` export condition points at src/.
export default defineConfig({
  test: {
    projects: ['packages/*/vitest.config.ts', 'tooling/vitest.config.ts'],
    reporters: ['default'],
  },
});
