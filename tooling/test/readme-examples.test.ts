// Every package README carries a short example that runs: fenced blocks whose info string is
// `ts example` are written next to the package (so imports resolve as a user's would) and run.
import { mkdirSync, readFileSync, rmSync, writeFileSync, existsSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { workspacePackages } from './workspace.js';

const FENCE = /^```ts example\n([\s\S]*?)^```/gm;

export function extractExamples(markdown: string): string[] {
  return [...markdown.matchAll(FENCE)].map((m) => m[1] ?? '');
}

describe('README examples', () => {
  it('finds fenced example blocks', () => {
    expect(extractExamples('x\n```ts example\nconst a = 1;\n```\n```ts\nnot run\n```\n')).toEqual([
      'const a = 1;\n',
    ]);
  });

  // Published packages only; private workspaces (testenv) run their README examples themselves.
  for (const pkg of workspacePackages().filter((p) => !p.private)) {
    it(`${pkg.name} has a README example that runs`, async () => {
      const readme = join(pkg.dir, 'README.md');
      expect(existsSync(readme), `${readme} is missing`).toBe(true);
      const examples = extractExamples(readFileSync(readme, 'utf8'));
      expect(examples.length, `${readme} has no \`\`\`ts example block`).toBeGreaterThan(0);
      const dir = join(pkg.dir, '.readme-example');
      mkdirSync(dir, { recursive: true });
      try {
        for (const [i, code] of examples.entries()) {
          const file = join(dir, `example-${i}.ts`);
          writeFileSync(file, code);
          await import(file);
        }
      } finally {
        rmSync(dir, { recursive: true, force: true });
      }
    });
  }
});
