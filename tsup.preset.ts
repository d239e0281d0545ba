// The one tsup preset every package builds with: ESM with declarations, Node 20 target,
// dependencies never bundled (tsup externalises dependencies and peerDependencies).
import type { Options } from 'tsup';

export interface PresetOptions {
  /** Entry points relative to the package, e.g. { index: 'src/index.ts', main: 'src/bin/main.ts' }. */
  entry: Record<string, string>;
  /**
   * Escape the non-ASCII characters left in the output (esbuild escapes them in code and strings but
   * keeps the doc comments of object properties as written). Node holds every module's source as a
   * string for its lifetime, and one character above U+00FF ('…', '→', '—') makes the whole file a
   * two-byte string: 1.7 MB more heap per process for @tsmesh/core (bench/README.md, "Proxy pair").
   */
  asciiOutput?: boolean;
}

type TsupPlugin = NonNullable<Options['plugins']>[number];

/** Writes every character above U+007F of a .js chunk as a \u escape (they are left only in comments). */
const asciiOutputPlugin: TsupPlugin = {
  name: 'tsmesh-ascii-output',
  renderChunk(code, chunk) {
    if (!chunk.path.endsWith('.js') || !/[^\x00-\x7f]/.test(code)) return undefined;
    return {
      code: code.replace(/[^\x00-\x7f]/gu, (c) => {
        const cp = c.codePointAt(0) ?? 0;
        return cp > 0xffff ? `\\u{${cp.toString(16)}}` : `\\u${cp.toString(16).padStart(4, '0')}`;
      }),
    };
  },
};

export function tsmeshPreset({ entry, asciiOutput = false }: PresetOptions): Options {
  return {
    entry,
    format: ['esm'],
    target: 'node20',
    platform: 'node',
    dts: {
      // Declarations are built against the other packages' published types, not their source.
      compilerOptions: { customConditions: [] },
    },
    sourcemap: true,
    clean: true,
    splitting: true,
    treeshake: true,
    outDir: 'dist',
    tsconfig: 'tsconfig.json',
    ...(asciiOutput ? { plugins: [asciiOutputPlugin] } : {}),
  };
}
