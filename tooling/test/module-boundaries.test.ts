// The dependency table of DESIGN.md is enforced by lint: prove a forbidden import fails.
import { spawnSync } from 'node:child_process';
import { join } from 'node:path';
import { ESLint } from 'eslint';
import { beforeAll, describe, expect, it } from 'vitest';
import { repoRoot } from './workspace.js';

describe('module boundaries', () => {
  let eslint: ESLint;
  beforeAll(() => {
    // The nx rule reads the cached project graph; without one it silently skips.
    const res = spawnSync('npx', ['nx', 'show', 'projects'], { cwd: repoRoot, encoding: 'utf8' });
    expect(res.status, res.stderr).toBe(0);
    eslint = new ESLint({ cwd: repoRoot });
  });

  const lint = async (file: string, code: string) => {
    const [result] = await eslint.lintText(code, { filePath: join(repoRoot, file) });
    return (result?.messages ?? []).filter((m) => m.ruleId === '@nx/enforce-module-boundaries');
  };

  it('rejects the proxy importing a control-plane package', async () => {
    const messages = await lint(
      'packages/proxy/src/probe.ts',
      "import { VERSION } from '@tsmesh/destination';\nexport const v = VERSION;\n",
    );
    expect(messages.map((m) => m.message).join('\n')).toMatch(/layer:data-plane.*can only depend on/);
  });

  it('rejects core importing anything of the mesh', async () => {
    const messages = await lint('packages/core/src/probe.ts', "export { VERSION } from '@tsmesh/kube';\n");
    expect(messages).toHaveLength(1);
  });

  it('keeps the test environment out of product code but allows it in tests', async () => {
    const code = "import { startTestEnv } from '@tsmesh/testenv';\nexport const s = startTestEnv;\n";
    expect(await lint('packages/identity/src/probe.ts', code)).toHaveLength(1);
    expect(await lint('packages/identity/test/integration/probe.test.ts', code)).toHaveLength(0);
  });

  it('allows the CLI to use every package', async () => {
    const code = "import { VERSION } from '@tsmesh/proxy';\nexport const v = VERSION;\n";
    expect(await lint('packages/cli/src/probe.ts', code)).toHaveLength(0);
  });
});
