// The dashboard's build: a single-page React app compiled by vite into the package's dist/web
// (after tsup, which cleans dist), served by `tsmesh viz dashboard`. JSX goes through vite's own
// esbuild transform (no React plugin needed: no fast refresh in a shipped build).
import { fileURLToPath } from 'node:url';
import { defineConfig } from 'vite';

const root = fileURLToPath(new URL('.', import.meta.url));

export default defineConfig({
  root,
  base: '/',
  logLevel: 'warn',
  esbuild: { jsx: 'automatic', legalComments: 'none' },
  build: {
    outDir: fileURLToPath(new URL('../dist/web', import.meta.url)),
    emptyOutDir: true,
    target: 'es2022',
    sourcemap: false,
    // The whole app is one small chunk; a warning means something large crept in.
    chunkSizeWarningLimit: 300,
    reportCompressedSize: false,
  },
  // `vite dev` for working on the page: the API comes from a running `tsmesh viz dashboard`.
  server: {
    host: '127.0.0.1',
    proxy: { '/api': process.env.TSMESH_DASHBOARD_URL ?? 'http://127.0.0.1:50750' },
  },
});
