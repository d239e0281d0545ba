// Shared per-package vitest settings: resolve workspace packages to their TypeScript source.
import { defineProject, type UserWorkspaceConfig } from 'vitest/config';

const conditions = ['tsmesh-source', 'node', 'import', 'module', 'default'];

export function tsmeshProject(name: string, test: UserWorkspaceConfig['test'] = {}) {
  return defineProject({
    resolve: { conditions },
    ssr: { resolve: { conditions, externalConditions: conditions } },
    test: {
      name,
      environment: 'node',
      include: ['src/**/*.test.ts', 'test/**/*.test.ts'],
      testTimeout: 20_000,
      hookTimeout: 60_000,
      ...test,
    },
  });
}
