import { test } from 'node:test';
import assert from 'node:assert/strict';
import { isAllowedNavigation, isTrustedSender, secureWebPreferences } from '../../../main/electron/policy.js';

const ORIGIN = 'http://127.0.0.1:8080';

test('windows are sandboxed, isolated and without Node', () => {
  const preferences = secureWebPreferences('/opt/fieldgate/preload/index.cjs');
  assert.equal(preferences.sandbox, true);
  assert.equal(preferences.contextIsolation, true);
  assert.equal(preferences.nodeIntegration, false);
  assert.equal(preferences.webviewTag, false);
  assert.equal(preferences.preload, '/opt/fieldgate/preload/index.cjs');
});

test('navigation is allowed only within the UI origin', () => {
  assert.equal(isAllowedNavigation(`${ORIGIN}/pairing`, ORIGIN), true);
  assert.equal(isAllowedNavigation('http://127.0.0.1:8081/', ORIGIN), false);
  assert.equal(isAllowedNavigation('https://evil.example/', ORIGIN), false);
  assert.equal(isAllowedNavigation('file:///etc/passwd', ORIGIN), false);
  assert.equal(isAllowedNavigation('not a url', ORIGIN), false);
});

test('IPC is answered only for the main frame of the UI origin', () => {
  assert.equal(isTrustedSender({ url: `${ORIGIN}/`, isMainFrame: true }, ORIGIN), true);
  assert.equal(isTrustedSender({ url: `${ORIGIN}/`, isMainFrame: false }, ORIGIN), false);
  assert.equal(isTrustedSender({ url: 'https://evil.example/', isMainFrame: true }, ORIGIN), false);
  assert.equal(isTrustedSender(null, ORIGIN), false);
});
