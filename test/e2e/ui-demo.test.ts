import { test } from 'node:test';
import assert from 'node:assert/strict';
import { CliProcess } from '../helpers/cli.js';
import { captureScreen, completeFirstRun, goTo, launchBrowser, openUi, tempDir } from './ui-harness.js';

test('the demo opens at the first-run screen with the setup code from the terminal, then shows its mutual-TLS cloud connected', async (t) => {
  const demo = new CliProcess(['demo', '--data-dir', tempDir(t), '--ui-port', '0']);
  t.after(() => demo.kill());
  const url = /(http:\/\/127\.0\.0\.1:\d+)/.exec(await demo.waitForLine('setup UI and status: http://'))?.[1] as string;
  const code = /setup code (\S+)/.exec(await demo.waitForLine('first run: setup code'))?.[1] as string;
  const browser = await launchBrowser(t);
  const { page, problems } = await openUi(browser, url);
  await page.getByRole('heading', { name: 'Set up this gateway' }).waitFor();
  await completeFirstRun(page, code);
  await page.locator('[data-cloud="connected"]').waitFor({ timeout: 30_000 });
  assert.match((await page.locator('#cert-title + *').textContent()) ?? '', /\d+ days left/);
  await captureScreen(page, 'overview-demo');
  // Dark mode follows the system; axe checks the contrast of the dark palette too.
  await page.emulateMedia({ colorScheme: 'dark' });
  await captureScreen(page, 'overview-demo-dark');
  await goTo(page, 'Sensors');
  await page.locator('#sensors tbody tr [data-tone="ok"]').first().waitFor({ timeout: 20_000 });
  await captureScreen(page, 'sensors-demo-dark');
  await goTo(page, 'Settings');
  await captureScreen(page, 'settings-dark');
  assert.deepEqual(problems, []);
});
