import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { FIELDGATE_VERSION } from '../../main/shared/version.js';

test('the version the gateway reports is the package version', () => {
  const pkg = JSON.parse(readFileSync(new URL('../../../package.json', import.meta.url), 'utf8')) as { version: string };
  assert.equal(FIELDGATE_VERSION, pkg.version);
});
