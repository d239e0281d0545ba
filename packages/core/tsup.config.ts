import { defineConfig } from 'tsup';
import { tsmeshPreset } from '../../tsup.preset.ts';

// asciiOutput: the generated protobuf code makes dist/index.js 1.7 MB, held by every process that
// imports @tsmesh/core (the proxy's too) as a one-byte string only if it is all Latin-1.
export default defineConfig(tsmeshPreset({ entry: { index: 'src/index.ts' }, asciiOutput: true }));
