// The built web app (vite's output) served from a directory: exact files with their content type,
// any other GET path that is not a file answers index.html (the app routes in the browser), and
// nothing outside the directory is ever read.
import { existsSync } from 'node:fs';
import { readFile, stat } from 'node:fs/promises';
import { extname, join, normalize, sep } from 'node:path';
import { fileURLToPath } from 'node:url';

const TYPES: Readonly<Record<string, string>> = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.svg': 'image/svg+xml',
  '.png': 'image/png',
  '.ico': 'image/x-icon',
  '.json': 'application/json',
  '.map': 'application/json',
  '.txt': 'text/plain; charset=utf-8',
};

/**
 * The directory of the built app: `dist/web` beside the bundled code, or the package's
 * `dist/web` when running from source (tests, the `tsmesh-source` condition).
 */
export function defaultWebDir(): string | undefined {
  const candidates = [new URL('./web/', import.meta.url), new URL('../../dist/web/', import.meta.url)];
  return candidates.map((u) => fileURLToPath(u)).find((dir) => existsSync(join(dir, 'index.html')));
}

export interface StaticFile {
  readonly body: Buffer;
  readonly contentType: string;
  /** Hashed asset names never change: cache them; index.html must be re-read. */
  readonly immutable: boolean;
}

export async function readStatic(dir: string, pathname: string): Promise<StaticFile | undefined> {
  let decoded: string;
  try {
    decoded = decodeURIComponent(pathname);
  } catch {
    return undefined;
  }
  const root = normalize(dir.endsWith(sep) ? dir : dir + sep);
  const file = normalize(join(root, decoded));
  const inside = file.startsWith(root) && !decoded.includes('\0');
  const isFile =
    inside &&
    (await stat(file).then(
      (s) => s.isFile(),
      () => false,
    ));
  const chosen = isFile ? file : join(root, 'index.html');
  // A missing asset (a /assets/… or any name with an extension) is a 404, not the page.
  if (!isFile && extname(decoded) !== '') return undefined;
  const body = await readFile(chosen).catch(() => undefined);
  if (!body) return undefined;
  return {
    body,
    contentType: TYPES[extname(chosen)] ?? 'application/octet-stream',
    immutable: isFile && decoded.startsWith('/assets/'),
  };
}
