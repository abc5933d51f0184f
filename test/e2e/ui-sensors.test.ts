import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { SocatPair } from '../helpers/socat.js';
import { closePort, openDeviceEnd, send, waitFor } from '../integration/serial/fixture.js';
import { captureScreen, completeFirstRun, goTo, launchBrowser, openUi, startGateway } from './ui-harness.js';

test('a serial sensor added from the UI on a pty shows its values on Sensors and in the Overview sparkline; logs filter; config errors sit next to their field', async (t) => {
  const pair = new SocatPair();
  await pair.start();
  t.after(() => pair.dispose());
  const device = await openDeviceEnd(pair.b);
  t.after(() => closePort(device));
  const gateway = await startGateway(t, '# bench gateway\ngateway: { id: gw-ui-serial, dataDir: $DIR/data }\nui: { port: 0 }\n');
  const browser = await launchBrowser(t);
  const { page, problems } = await openUi(browser, gateway.url);
  await completeFirstRun(page, gateway.setupCode as string);

  await goTo(page, 'Sensors');
  await page.getByText('No sensors yet').waitFor();
  await page.getByRole('link', { name: 'Add serial' }).click();
  await page.getByRole('heading', { name: 'Add a serial sensor' }).waitFor();
  await page.getByLabel('Or type a port path').fill(pair.a);
  await page.getByLabel('Sensor id').fill('bench-1');
  await page.getByLabel('Port name').fill('bench-port');
  await page.getByRole('group', { name: 'Baud rate presets' }).getByRole('button', { name: '115200' }).click();
  assert.equal(await page.getByLabel('Baud rate', { exact: true }).inputValue(), '115200');
  await page.getByLabel('Parity').selectOption('none');
  await captureScreen(page, 'add-serial');
  await page.getByRole('button', { name: 'Save sensor' }).click();
  await page.getByRole('heading', { name: 'Sensors' }).waitFor();

  // The port is read without a restart: lines written now appear as values with units.
  const writer = setInterval(() => void send(device, '{"temperature":{"value":21.5,"unit":"°C"},"humidity":{"value":40,"unit":"%"}}\n').catch(() => undefined), 250);
  t.after(() => clearInterval(writer));
  const row = page.locator('tr[data-sensor="bench-1"]');
  await row.locator('[data-quantity="temperature"]', { hasText: 'temperature 21.5 °C' }).waitFor({ timeout: 30_000 });
  await row.locator('[data-tone="ok"]').waitFor();
  assert.match((await row.locator('[data-quantity="humidity"]').textContent()) ?? '', /humidity 40 %/);
  assert.match(readFileSync(gateway.configFile, 'utf8'), /^# bench gateway/, 'the config file keeps its comment');
  await captureScreen(page, 'sensors-serial');

  await goTo(page, 'Overview');
  const throughput = page.getByRole('img', { name: /^Throughput: now [1-9][\d.]* readings\/s/ });
  await throughput.waitFor({ timeout: 60_000 });
  // A line needs two points of the 10-second history.
  await waitFor('two points of throughput', async () => Number(await throughput.getAttribute('data-points')) >= 2, 60_000);
  assert.equal(await throughput.locator('polyline').count(), 1);
  await captureScreen(page, 'overview-serial');

  await goTo(page, 'Logs');
  await page.locator('#log-lines li').first().waitFor();
  await page.getByLabel('Level and above').selectOption('info');
  await page.getByLabel('Namespace').fill('api');
  await page.getByLabel('Text').fill('listening');
  await page.getByRole('button', { name: 'Apply filter' }).click();
  const lines = page.locator('#log-lines li');
  await page.locator('#log-lines li:not([data-namespace^="api"])').first().waitFor({ state: 'detached' });
  assert.ok((await lines.count()) >= 1);
  for (const text of await lines.allTextContents()) assert.match(text, /listening/i);
  await captureScreen(page, 'logs');
  await page.getByRole('button', { name: 'Pause' }).click();
  await page.getByRole('button', { name: /^Resume/ }).waitFor();

  await goTo(page, 'Settings');
  const bufferSection = page.locator('form[data-section="buffer"]');
  await bufferSection.getByLabel('Commit window ms').fill('50');
  await bufferSection.getByRole('button', { name: 'Save buffer' }).click();
  const error = bufferSection.locator('.field', { has: page.getByLabel('Commit window ms') }).locator('.field-error');
  await error.waitFor();
  assert.match((await error.textContent()) ?? '', /10/);
  await captureScreen(page, 'settings-config-error');

  await goTo(page, 'Sensors');
  await page.getByRole('button', { name: 'Remove bench-1' }).click();
  const confirm = page.getByRole('dialog', { name: 'Remove bench-1?' });
  await confirm.waitFor();
  await captureScreen(page, 'sensors-remove-confirm');
  await confirm.getByRole('button', { name: 'Remove' }).click();
  await page.locator('tr[data-sensor="bench-1"]').waitFor({ state: 'detached', timeout: 20_000 });
  assert.doesNotMatch(readFileSync(gateway.configFile, 'utf8'), /bench-port/, 'the port is gone from the config');
  assert.deepEqual(problems, []);
});
