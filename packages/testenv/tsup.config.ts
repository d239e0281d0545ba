import { defineConfig } from 'tsup';
import { tsmeshPreset } from '../../tsup.preset.ts';

const preset = tsmeshPreset({
  entry: {
    index: 'src/index.ts',
    vitest: 'src/vitest.ts',
    'vitest-global-setup': 'src/vitest-global-setup.ts',
    cli: 'src/cli.ts',
  },
});

// vitest is the test runner that loads `./vitest` and `./vitest-global-setup`, never a
// dependency of ours: keep it out of the bundle (tsup only externalises declared dependencies).
export default defineConfig({ ...preset, external: ['vitest', 'vitest/node'] });
