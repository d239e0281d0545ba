// Facts about the workspace the tooling tests share.
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

export const repoRoot = fileURLToPath(new URL('../../', import.meta.url));

export interface WorkspacePackage {
  dir: string;
  name: string;
  private: boolean;
  manifest: Record<string, unknown>;
}

export function workspacePackages(): WorkspacePackage[] {
  const base = join(repoRoot, 'packages');
  // Only folders with a package.json: a build's scratch folder (an image build's pnpm deploy) may
  // sit there for a moment while other tests run.
  return readdirSync(base)
    .filter((entry) => existsSync(join(base, entry, 'package.json')))
    .map((entry) => {
      const dir = join(base, entry);
      const manifest = JSON.parse(readFileSync(join(dir, 'package.json'), 'utf8')) as Record<string, unknown>;
      return { dir, name: manifest.name as string, private: manifest.private === true, manifest };
    });
}
