// Facts about the workspace the tooling tests share.
import { readdirSync, readFileSync } from 'node:fs';
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
  return readdirSync(base).map((entry) => {
    const dir = join(base, entry);
    const manifest = JSON.parse(readFileSync(join(dir, 'package.json'), 'utf8')) as Record<string, unknown>;
    return { dir, name: manifest.name as string, private: manifest.private === true, manifest };
  });
}
