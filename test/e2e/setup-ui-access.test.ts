import { test } from 'node:test';
import assert from 'node:assert/strict';
import { ADMIN, captureScreen, completeFirstRun, goTo, launchBrowser, openUi, signIn, startGateway } from './ui-harness.js';

const SIM_GATEWAY = 'gateway: { id: gw-ui-e2e, dataDir: $DIR/data }\nsensors:\n  sim:\n    - { id: kitchen-1, rate: 5 }\nui: { port: 0 }\n';
const TECH = { username: 'tech', password: 'field worker password 42' };

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
  await goTo(page, 'Sensors');
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

test('an admin adds a technician, who sees no admin screens and cannot reach them; a password change elsewhere ends the session with an explanation', async (t) => {
  const gateway = await startGateway(t, SIM_GATEWAY);
  const browser = await launchBrowser(t);
  const admin = await openUi(browser, gateway.url);
  await completeFirstRun(admin.page, gateway.setupCode as string);

  await goTo(admin.page, 'Settings');
  await admin.page.getByLabel('Name', { exact: true }).fill(TECH.username);
  await admin.page.getByLabel('Role').selectOption('technician');
  await admin.page.getByLabel('Password', { exact: true }).fill(TECH.password);
  await admin.page.getByLabel('Repeat the password').fill(TECH.password);
  await admin.page.getByRole('button', { name: 'Add user' }).click();
  await admin.page.locator('tr[data-user="tech"]').waitFor();
  await captureScreen(admin.page, 'settings');

  const tech = await openUi(browser, gateway.url);
  await tech.page.getByRole('heading', { name: 'Sign in to fieldgate' }).waitFor();
  await captureScreen(tech.page, 'login');
  await signIn(tech.page, TECH.username, TECH.password);
  await tech.page.getByRole('heading', { name: 'Overview' }).waitFor();
  const rail = tech.page.getByRole('navigation', { name: 'Screens' });
  assert.deepEqual(await rail.getByRole('link').allTextContents(), ['Overview', 'Sensors', 'Logs', 'Account', 'About']);
  await tech.page.goto(`${gateway.url}/#/settings`);
  await tech.page.getByRole('heading', { name: 'Not available' }).waitFor();
  await captureScreen(tech.page, 'technician-admin-screen');
  for (const path of ['/api/users', '/api/config', '/api/ota', '/api/cloud']) {
    const status = await tech.page.evaluate(async (url) => (await fetch(url)).status, path);
    assert.equal(status, 403, `${path} answers a technician 403`);
  }

  // The same technician signs in elsewhere and changes the password: this session ends, and says why.
  const elsewhere = await openUi(browser, gateway.url);
  await signIn(elsewhere.page, TECH.username, TECH.password);
  await goTo(elsewhere.page, 'Account');
  await elsewhere.page.getByLabel('Current password').fill(TECH.password);
  await elsewhere.page.getByLabel('New password', { exact: true }).fill('a brand new field password');
  await elsewhere.page.getByLabel('Repeat the new password').fill('a brand new field password');
  await elsewhere.page.getByRole('button', { name: 'Change password' }).click();
  await elsewhere.page.locator('[data-reason="password-changed"]').waitFor();

  // The event socket says the session ended, so the screen changes without a click.
  await tech.page.locator('[data-reason="expired"]').waitFor();
  assert.match((await tech.page.locator('[data-reason="expired"]').textContent()) ?? '', /15 minutes without activity and 12 hours after sign-in/);
  await captureScreen(tech.page, 'login-session-ended');
  assert.deepEqual([...admin.problems, ...tech.problems, ...elsewhere.problems], []);
});

test('wrong passwords lock the login, and the screen says until when', async (t) => {
  const gateway = await startGateway(t, SIM_GATEWAY);
  const browser = await launchBrowser(t);
  const first = await openUi(browser, gateway.url);
  await completeFirstRun(first.page, gateway.setupCode as string);

  const { page, problems } = await openUi(browser, gateway.url);
  for (let attempt = 1; attempt <= 5; attempt += 1) {
    const answered = page.waitForResponse((response) => response.url().endsWith('/api/login'));
    await signIn(page, ADMIN.username, `wrong password ${attempt}`);
    assert.equal((await answered).status(), 401);
    await page.getByText('Wrong name or password.').waitFor();
  }
  await signIn(page, ADMIN.username, ADMIN.password);
  const lockout = page.locator('#lockout');
  await lockout.waitFor();
  assert.match((await lockout.textContent()) ?? '', /Sign-in is locked until \d{1,2}:\d{2}:\d{2}.* \(in \d+ s\)/);
  assert.equal(await page.getByRole('button', { name: 'Sign in' }).isDisabled(), true);
  await captureScreen(page, 'login-locked');
  assert.deepEqual(problems, []);
});
