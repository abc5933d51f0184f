import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync, writeFileSync } from 'node:fs';
import { captureScreen, completeFirstRun, launchBrowser, openUi, startGateway, TOUCHSCREEN } from './ui-harness.js';

// A real gateway with two alerts active (disk-low by a threshold above any disk, sensor-silent for
// a serial sensor whose port is missing): the overview lists them from the status, most severe
// first, readable on the touchscreen; a config reload that ends one removes it live.
const YAML = `gateway: { id: gw-ui-alerts, dataDir: $DIR/data }
sensors:
  sim:
    - { id: kitchen-1, rate: 5 }
  serial:
    - { id: cellar-port, path: $DIR/no-such-tty, format: jsonl, sensorId: cellar-1 }
alerts: { checkIntervalMs: 200, sensorSilent: { floorMs: 1000 }, disk: { minFreeBytes: 9007199254740991 } }
ui: { port: 0 }
`;

test('the overview shows the active alerts from the status, critical first with their fix, and drops one when it clears', async (t) => {
  const gateway = await startGateway(t, YAML);
  const browser = await launchBrowser(t);
  const { page, problems } = await openUi(browser, gateway.url);
  await page.getByRole('heading', { name: 'Set up this gateway' }).waitFor();
  await completeFirstRun(page, gateway.setupCode as string);

  const items = page.locator('.alert-list li');
  await page.locator('li[data-alert="sensor-silent:cellar-1"]').waitFor({ timeout: 20_000 });
  await page.locator('li[data-alert="disk-low:disk"]').waitFor();
  assert.deepEqual(await items.evaluateAll((list) => list.map((li) => li.getAttribute('data-alert'))), ['disk-low:disk', 'sensor-silent:cellar-1'], 'critical before warning');
  assert.match((await page.locator('li[data-alert="disk-low:disk"]').textContent()) ?? '', /^Critical only \d+\.\d [KMGTP]iB free.*Fix: free space/);
  assert.match((await page.locator('#alerts-title').textContent()) ?? '', /Active alerts \(2\)1 critical · 1 warning/);
  assert.equal(await page.locator('#topbar-alerts').textContent(), '2 active alerts');
  await captureScreen(page, 'overview-alerts');
  // On the touchscreen the most severe alert is on the first screenful, without scrolling.
  await page.setViewportSize(TOUCHSCREEN);
  const box = await items.first().boundingBox();
  assert.ok(box && box.y + box.height <= TOUCHSCREEN.height, `the first alert is within the 800x480 screen (${JSON.stringify(box)})`);

  writeFileSync(gateway.configFile, readFileSync(gateway.configFile, 'utf8').replace('minFreeBytes: 9007199254740991', 'minFreeBytes: 0'));
  gateway.process.child.kill('SIGHUP');
  await page.locator('li[data-alert="disk-low:disk"]').waitFor({ state: 'detached', timeout: 20_000 });
  assert.equal(await page.locator('#topbar-alerts').textContent(), '1 active alert');
  assert.match((await page.locator('#alerts-title').textContent()) ?? '', /Active alerts \(1\)1 warning/);
  await page.emulateMedia({ colorScheme: 'dark' });
  await captureScreen(page, 'overview-alerts-dark');
  assert.deepEqual(problems, []);
});
