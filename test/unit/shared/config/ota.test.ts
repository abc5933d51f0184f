import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { validateConfig } from '../../../../main/config/validate.js';
import { ConfigError } from '../../../../main/shared/errors.js';

const base = { gateway: { id: 'gw-1', dataDir: '/var/lib/fieldgate' } };

function problems(ota: unknown): string[] {
  try {
    validateConfig({ ...base, ota });
  } catch (error) {
    assert.ok(error instanceof ConfigError, String(error));
    return error.problems;
  }
  assert.fail('expected the config to be refused');
}

describe('config: ota section', () => {
  test('is optional, and fills defaults when present', () => {
    assert.equal(validateConfig(base).ota, undefined);
    const ota = validateConfig({ ...base, ota: { model: 'fg100' } }).ota;
    assert.deepEqual(ota, {
      model: 'fg100',
      appId: 'fieldgate',
      markGoodTimeoutMs: 120_000,
      clockSkewSeconds: 300,
      maxBundleBytes: 1024 * 1024 * 1024,
      reserveBytes: 64 * 1024 * 1024,
    });
  });

  test('names the key and what is allowed', () => {
    assert.match(problems({ model: 'fg100', markGoodTimeoutMs: 10 }).join('\n'), /ota\.markGoodTimeoutMs.*at least 1000/);
    assert.match(problems({}).join('\n'), /ota\.model/);
    assert.match(problems({ model: 'fg100', rootdir: '/x' }).join('\n'), /rootdir.*rootDir/);
  });
});
