import { test } from 'node:test';
import assert from 'node:assert/strict';
import { validateConfig } from '../../../../main/config/validate.js';
import { ConfigError } from '../../../../main/shared/errors.js';

const base = { gateway: { id: 'gw-1', dataDir: '/var/lib/fieldgate' } };

function problems(identity: unknown): string[] {
  try {
    validateConfig({ ...base, identity });
  } catch (error) {
    if (error instanceof ConfigError) return error.problems;
    throw error;
  }
  return [];
}

test('identity has safe defaults when the section is left out', () => {
  const config = validateConfig(base);
  assert.equal(config.identity.keyAlgorithm, 'ecdsa-p256');
  assert.equal(config.identity.rotation.enabled, true);
  assert.equal(config.identity.rotation.atLifetimeShare, 0.67);
  assert.deepEqual(config.identity.alertDaysLeft, [30, 7]);
  assert.equal(config.identity.dir, undefined);
});

test('identity config errors name the key, the value and what is allowed', () => {
  assert.match(problems({ rotation: { atLifetimeShare: 1.5 } }).join('\n'), /"identity\.rotation\.atLifetimeShare": expected a share of the lifetime between 0 and 1.*got 1\.5/);
  assert.match(problems({ keyAlgorithm: 'dsa' }).join('\n'), /"identity\.keyAlgorithm": .*ecdsa-p256.*got "dsa"/);
  assert.match(problems({ subject: { country: 'Germany' } }).join('\n'), /"identity\.subject\.country": expected a two-letter ISO country code/);
  assert.match(problems({ subject: { commonName: 'x' } }).join('\n'), /"identity\.subject\.commonName": unknown key/);
  assert.match(problems({ subjectAltNames: { ip: ['300.1.1.1'] } }).join('\n'), /"identity\.subjectAltNames\.ip\.0"/);
  assert.match(problems({ rotaton: {} }).join('\n'), /did you mean "rotation"\?/);
});
