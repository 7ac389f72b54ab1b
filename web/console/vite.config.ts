// The console is built into tools/local/console/dist, which the local server embeds and serves
// at /console. JSX is compiled for Preact (tsconfig's jsxImportSource).
import { fileURLToPath } from 'node:url';
import { defineConfig } from 'vite';

const here = (p: string) => fileURLToPath(new URL(p, import.meta.url));

export default defineConfig({
  root: here('.'),
  base: '/console/',
  build: {
    outDir: here('../../tools/local/console/dist'),
    // The folder keeps a committed placeholder (so the Go package compiles before the
    // first build); the Makefile removes the old assets instead.
    emptyOutDir: false,
    target: 'es2022',
  },
});
