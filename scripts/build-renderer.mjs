#!/usr/bin/env node
// Bundles the setup UI (renderer/) with Vite into dist/renderer, where the API server and the
// Electron window load it from. tsc -b only type-checks the renderer; this is its one build.
import { fileURLToPath } from 'node:url';
import preact from '@preact/preset-vite';
import { build } from 'vite';

const root = fileURLToPath(new URL('../renderer/', import.meta.url));
const outDir = fileURLToPath(new URL('../dist/renderer/', import.meta.url));

await build({
  root,
  configFile: false,
  logLevel: 'warn',
  // Relative URLs: the same files load from http(s)://host/ and in the Electron window.
  base: './',
  plugins: [preact({ devToolsEnabled: false, prefreshEnabled: false })],
  build: {
    outDir,
    emptyOutDir: true,
    // Nothing inline: the CSP allows only 'self' for scripts, styles and images (no data: URLs).
    assetsInlineLimit: 0,
    modulePreload: { polyfill: false },
    cssCodeSplit: false,
    sourcemap: false,
    target: 'es2022',
  },
});
