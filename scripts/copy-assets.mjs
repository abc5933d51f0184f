#!/usr/bin/env node
// Copies the renderer's static files next to its compiled scripts.
import { cpSync, existsSync, mkdirSync, readdirSync } from 'node:fs';

const from = new URL('../renderer/', import.meta.url).pathname;
const to = new URL('../dist/renderer/', import.meta.url).pathname;
mkdirSync(to, { recursive: true });
for (const name of existsSync(from) ? readdirSync(from) : []) {
  if (/\.(html|css|svg|png)$/.test(name)) cpSync(from + name, to + name);
}
