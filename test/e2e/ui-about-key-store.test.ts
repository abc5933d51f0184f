import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createSoftHsm, SOFTHSM_MODULE } from '../helpers/softhsm.js';
import { captureScreen, completeFirstRun, goTo, launchBrowser, openUi, startGateway } from './ui-harness.js';

test('About names where the device key lives: a hardware token with identity.keyStore pkcs11', async (t) => {
  const hsm = await createSoftHsm({ label: 'fg-about' });
  t.after(() => hsm.cleanup());
  const yaml = [
    'gateway: { id: gw-ui-hsm, dataDir: $DIR/data }',
    'ui: { port: 0 }',
    'identity:',
    '  keyStore: pkcs11',
    `  pkcs11: { module: ${SOFTHSM_MODULE}, tokenLabel: ${hsm.label}, pinFile: ${hsm.pinFile} }`,
    '',
  ].join('\n');
  const gateway = await startGateway(t, yaml, hsm.env);
  assert.ok(gateway.setupCode);
  const browser = await launchBrowser(t);
  const { page, problems } = await openUi(browser, gateway.url);
  await completeFirstRun(page, gateway.setupCode);
  await goTo(page, 'About');
  await page.locator('#about-key-store').waitFor();
  assert.equal(await page.locator('#about-key-store').textContent(), 'In a hardware token (PKCS#11, token "fg-about"): it cannot be copied off the box');
  await captureScreen(page, 'about-key-store');
  assert.deepEqual(problems, []);
});
