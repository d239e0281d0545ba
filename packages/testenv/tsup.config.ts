import { defineConfig } from 'tsup';
import { tsmeshPreset } from '../../tsup.preset.ts';

export default defineConfig(
  tsmeshPreset({
    entry: {
      index: 'src/index.ts',
      vitest: 'src/vitest.ts',
      'vitest-global-setup': 'src/vitest-global-setup.ts',
      cli: 'src/cli.ts',
    },
  }),
);
