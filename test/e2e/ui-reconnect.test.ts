import { test } from 'node:test';
import assert from 'node:assert/strict';
import { CliProcess } from '../helpers/cli.js';
import { freePort } from '../helpers/net.js';
import { ADMIN, captureScreen, completeFirstRun, launchBrowser, openUi, signIn, startGateway } from './ui-harness.js';

test('when the gateway goes away a banner says so; once it is back the UI resyncs (here: asks to sign in, the restart ended the session)', async (t) => {
  const port = await freePort();
  const gateway = await startGateway(t, `gateway: { id: gw-ui-reconnect, dataDir: $DIR/data }\nsensors:\n  sim:\n    - { id: kitchen-1, rate: 5 }\nui: { port: ${port} }\n`);
  const browser = await launchBrowser(t);
  const { page, problems } = await openUi(browser, gateway.url);
  await completeFirstRun(page, gateway.setupCode as string);
  await page.locator('#buffer-depth', { hasText: /^[1-9]/ }).waitFor({ timeout: 20_000 });

  gateway.process.kill();
  const banner = page.getByRole('alert').filter({ hasText: 'Connection to the gateway lost' });
  await banner.waitFor({ timeout: 20_000 });
  await captureScreen(page, 'connection-lost');

  const again = new CliProcess(['run', '--config', gateway.configFile]);
  t.after(() => again.kill());
  await again.waitForLine('"msg":"setup UI and API listening"');
  await page.locator('[data-reason="expired"]').waitFor({ timeout: 30_000 });
  await signIn(page, ADMIN.username, ADMIN.password);
  await page.getByRole('heading', { name: 'Overview' }).waitFor();
  await page.locator('#buffer-depth', { hasText: /^[1-9]/ }).waitFor({ timeout: 20_000 });
  assert.equal(await banner.count(), 0);
  // While the gateway is down the browser logs each refused reconnect, and after the restart the
  // refused upgrade of the forgotten session; nothing else may appear.
  assert.deepEqual(problems.filter((problem) => !/ERR_CONNECTION_REFUSED|HTTP Authentication failed/.test(problem)), []);
});
