import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { chromium } from 'playwright-core';
import { CliProcess } from '../helpers/cli.js';

const SCREENSHOTS = fileURLToPath(new URL('../../screenshots/', import.meta.url));

test('the status page shows live sensors and health in Chromium', async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'fieldgate-e2e-'));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  const file = join(dir, 'fieldgate.yaml');
  writeFileSync(file, 'gateway: { id: gw-e2e, dataDir: data }\nsensors:\n  sim:\n    - { id: kitchen-1, rate: 5 }\nui: { port: 0 }\n');
  const gateway = new CliProcess(['run', '--config', file]);
  t.after(() => gateway.kill());
  const listening = JSON.parse(await gateway.waitForLine('"msg":"setup UI and API listening"')) as { url: string };

  const browser = await chromium.launch({
    executablePath: '/usr/bin/chromium',
    args: ['--no-sandbox', '--disable-gpu', '--disable-background-networking', '--disable-component-update', '--disable-sync', '--no-first-run'],
  });
  t.after(() => browser.close());
  const page = await browser.newPage();
  const consoleErrors: string[] = [];
  page.on('console', (message) => {
    if (message.type() === 'error') consoleErrors.push(message.text());
  });
  page.on('response', (response) => {
    if (response.status() >= 400) consoleErrors.push(`HTTP ${response.status()} for ${response.url()}`);
  });
  await page.goto(listening.url);
  const row = page.locator('#sensors tbody tr', { hasText: 'kitchen-1' });
  await row.locator('.online-yes').waitFor({ timeout: 20_000 });
  assert.match((await page.locator('#gateway').textContent()) ?? '', /gateway gw-e2e/);
  assert.match((await page.locator('#components tbody').textContent()) ?? '', /sim\s*running/);
  mkdirSync(SCREENSHOTS, { recursive: true });
  await page.screenshot({ path: join(SCREENSHOTS, 'status.png'), fullPage: true });
  assert.deepEqual(consoleErrors, []);
});
