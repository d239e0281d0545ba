import { defineConfig } from 'tsup';
import { tsmeshPreset } from '../../tsup.preset.ts';

// data-plane: the proxy's entry, without the ASN.1 library (src/data-plane.ts); both entries share
// their chunks, so one process that imports both has one copy of every class.
// asciiOutput: the generated protobuf code makes dist/index.js 1.7 MB, held by every process that
// imports @tsmesh/core (the proxy's too) as a one-byte string only if it is all Latin-1.
export default defineConfig(
  tsmeshPreset({ entry: { index: 'src/index.ts', 'data-plane': 'src/data-plane.ts' }, asciiOutput: true }),
);
