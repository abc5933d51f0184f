import { test } from 'node:test';
import assert from 'node:assert/strict';
import { ADMIN, SIM_GATEWAY, captureScreen, completeFirstRun, goTo, launchBrowser, openUi, startGateway } from './ui-harness.js';

test('first run trades the setup code for an admin, with the password rules shown as they are typed', async (t) => {
  const gateway = await startGateway(t, SIM_GATEWAY);
  assert.ok(gateway.setupCode, 'the gateway logs a setup code on first start');
  const browser = await launchBrowser(t);
  const { page, problems } = await openUi(browser, gateway.url);

  await page.getByRole('heading', { name: 'Set up this gateway' }).waitFor();
  await captureScreen(page, 'first-run-code');
  await page.getByLabel('Setup code').fill('WRONGCODE99');
  await page.getByRole('button', { name: 'Next' }).click();
  await page.getByLabel('New password').fill('short');
  const rules = page.getByRole('list', { name: 'Password rules' });
  assert.match((await rules.locator('li:not(.met)').first().textContent()) ?? '', /At least 12 characters \(5 so far\)/);
  await page.getByLabel('New password').fill(ADMIN.password);
  await page.getByLabel('Repeat the password').fill(ADMIN.password);
  assert.equal(await rules.locator('li:not(.met)').count(), 0, 'every rule are met once the password is long enough and repeated');
  await captureScreen(page, 'first-run-password');
  await page.getByRole('button', { name: 'Create administrator' }).click();
  // The wrong code sends the user back to the code step with the server's reason.
  await page.getByLabel('Setup code').waitFor();
  assert.match((await page.locator('.field-error').textContent()) ?? '', /setup code is wrong/);

  await completeFirstRun(page, gateway.setupCode);
  await captureScreen(page, 'overview');
  // Keyboard only: Tab reaches the rail, Enter opens a screen.
  for (let presses = 0; presses < 10 && (await page.locator(':focus').textContent().catch(() => '')) !== 'Sensors'; presses += 1) await page.keyboard.press('Tab');
  assert.equal(await page.locator(':focus').textContent(), 'Sensors', 'Tab reaches the Sensors link');
  await page.keyboard.press('Enter');
  await page.getByRole('heading', { name: 'Sensors' }).waitFor();
  await page.locator('tr[data-sensor="kitchen-1"] [data-tone="ok"]').waitFor({ timeout: 20_000 });
  await captureScreen(page, 'sensors');

  await goTo(page, 'About');
  await page.locator('#about-gateway', { hasText: 'gw-ui-e2e' }).waitFor();
  assert.match((await page.locator('#about-fingerprint').textContent()) ?? '', /plain HTTP on loopback/);
  await captureScreen(page, 'about');
  await goTo(page, 'Account');
  await captureScreen(page, 'account');
  assert.deepEqual(problems, []);
});
