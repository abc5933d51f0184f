import { test } from 'node:test';
import assert from 'node:assert/strict';
import { SIM_GATEWAY, captureScreen, completeFirstRun, goTo, launchBrowser, openUi, signIn, startGateway } from './ui-harness.js';

const TECH = { username: 'tech', password: 'field worker password 42' };

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
