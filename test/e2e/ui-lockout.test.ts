import { test } from 'node:test';
import assert from 'node:assert/strict';
import { ADMIN, SIM_GATEWAY, captureScreen, completeFirstRun, launchBrowser, openUi, signIn, startGateway } from './ui-harness.js';

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
