import { tsmeshProject } from '../vitest.shared.ts';

// Workspace-wide checks: dependency rules, packaging, README examples.
export default tsmeshProject('workspace', { include: ['test/**/*.test.ts'], testTimeout: 300_000 });
