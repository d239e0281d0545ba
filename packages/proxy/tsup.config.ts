import { defineConfig } from 'tsup';
import { tsmeshPreset } from '../../tsup.preset.ts';

export default defineConfig(
  tsmeshPreset({ entry: { index: 'src/index.ts', main: 'src/main.ts' }, asciiOutput: true }),
);
