// The one tsup preset every package builds with: ESM with declarations, Node 20 target,
// dependencies never bundled (tsup externalises dependencies and peerDependencies).
import type { Options } from 'tsup';

export interface PresetOptions {
  /** Entry points relative to the package, e.g. { index: 'src/index.ts', main: 'src/bin/main.ts' }. */
  entry: Record<string, string>;
}

export function tsmeshPreset({ entry }: PresetOptions): Options {
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
  };
}
