import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { chromium, type Page } from 'playwright-core';
import { CliProcess } from '../helpers/cli.js';

const SCREENSHOTS = fileURLToPath(new URL('../../screenshots/', import.meta.url));

/** Opens the page in Debian's Chromium and collects console errors and failed requests. */
async function openStatusPage(t: test.TestContext, url: string): Promise<{ page: Page; problems: string[] }> {
  const browser = await chromium.launch({
    executablePath: '/usr/bin/chromium',
    args: ['--no-sandbox', '--disable-gpu', '--disable-background-networking', '--disable-component-update', '--disable-sync', '--no-first-run'],
  });
  t.after(() => browser.close());
  const page = await browser.newPage();
  const problems: string[] = [];
  page.on('console', (message) => {
    if (message.type() === 'error') problems.push(message.text());
  });
  page.on('response', (response) => {
    if (response.status() >= 400) problems.push(`HTTP ${response.status()} for ${response.url()}`);
  });
  await page.goto(url);
  return { page, problems };
}

async function screenshot(page: Page, name: string): Promise<void> {
  mkdirSync(SCREENSHOTS, { recursive: true });
  await page.screenshot({ path: join(SCREENSHOTS, `${name}.png`), fullPage: true });
}

function tempDir(t: test.TestContext): string {
  const dir = mkdtempSync(join(tmpdir(), 'fieldgate-e2e-'));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  return dir;
}

test('the status page shows live sensors, health and a buffer without a cloud', async (t) => {
  const dir = tempDir(t);
  const file = join(dir, 'fieldgate.yaml');
  writeFileSync(file, 'gateway: { id: gw-e2e, dataDir: data }\nsensors:\n  sim:\n    - { id: kitchen-1, rate: 5 }\nui: { port: 0 }\n');
  const gateway = new CliProcess(['run', '--config', file]);
  t.after(() => gateway.kill());
  const listening = JSON.parse(await gateway.waitForLine('"msg":"setup UI and API listening"')) as { url: string };

  const { page, problems } = await openStatusPage(t, listening.url);
  const row = page.locator('#sensors tbody tr', { hasText: 'kitchen-1' });
  await row.locator('.online-yes').waitFor({ timeout: 20_000 });
  assert.match((await page.locator('#gateway').textContent()) ?? '', /gateway gw-e2e/);
  assert.match((await page.locator('#components tbody').textContent()) ?? '', /buffer\s*running/);
  assert.match((await page.locator('#uplink-state').textContent()) ?? '', /^not configured/);
  await page.locator('#buffer-depth', { hasText: /^[1-9]\d* readings/ }).waitFor({ timeout: 20_000 });
  await screenshot(page, 'status-offline');
  assert.deepEqual(problems, []);
});

test('the status page of the demo shows the mutual-TLS uplink connected and delivering', async (t) => {
  const demo = new CliProcess(['demo', '--data-dir', tempDir(t), '--ui-port', '0']);
  t.after(() => demo.kill());
  const url = /(http:\/\/127\.0\.0\.1:\d+)/.exec(await demo.waitForLine('setup UI and status: http://'))?.[1] as string;

  const { page, problems } = await openStatusPage(t, url);
  await page.locator('#uplink-state.uplink-connected').waitFor({ timeout: 30_000 });
  assert.match((await page.locator('#uplink-state').textContent()) ?? '', /^connected · mqtts:\/\/localhost:\d+$/);
  await page.locator('#uplink-sent', { hasText: /^[1-9]\d*$/ }).waitFor({ timeout: 30_000 });
  assert.equal(await page.locator('#sensors tbody tr').count(), 2);
  await screenshot(page, 'status-demo');
  assert.deepEqual(problems, []);
});
