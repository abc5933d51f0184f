import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { gzipSync } from 'node:zlib';

const RENDERER = fileURLToPath(new URL('../../renderer/', import.meta.url));
const BUDGET_GZIPPED_JS = 150 * 1024;

function builtFiles(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((entry) => (entry.isDirectory() ? builtFiles(join(dir, entry.name)) : [join(dir, entry.name)]));
}

test('the built setup UI stays within 150 KB of gzipped JavaScript', () => {
  const scripts = builtFiles(RENDERER).filter((file) => file.endsWith('.js'));
  assert.ok(scripts.length > 0, 'no built scripts in dist/renderer: run npm run build');
  const gzipped = scripts.reduce((sum, file) => sum + gzipSync(readFileSync(file), { level: 9 }).length, 0);
  assert.ok(gzipped <= BUDGET_GZIPPED_JS, `gzipped JS is ${gzipped} bytes, over the ${BUDGET_GZIPPED_JS}-byte budget`);
});

test('the built page needs nothing the CSP forbids: no inline scripts or styles, nothing from another origin', () => {
  const html = readFileSync(join(RENDERER, 'index.html'), 'utf8');
  const scriptTags = [...html.matchAll(/<script\b([^>]*)>([\s\S]*?)<\/script>/g)];
  assert.ok(scriptTags.length > 0, 'the page loads no script');
  for (const [, attributes, body] of scriptTags) {
    assert.match(attributes ?? '', /\bsrc="\.\/assets\/[^"]+\.js"/, 'every script is a file of this build');
    assert.equal(body?.trim(), '', 'inline script body');
  }
  assert.doesNotMatch(html, /<style\b/, 'inline <style> element');
  assert.doesNotMatch(html, /\sstyle=/, 'inline style attribute');
  assert.doesNotMatch(html, /\s(src|href)="(https?:)?\/\//, 'a resource from another origin (CDN)');
  assert.doesNotMatch(html, /\son[a-z]+=/, 'inline event handler');
  for (const file of builtFiles(RENDERER).filter((name) => name.endsWith('.css'))) {
    assert.doesNotMatch(readFileSync(file, 'utf8'), /url\((["']?)(data:|https?:)/, `${file} loads data: or remote URLs`);
  }
});
