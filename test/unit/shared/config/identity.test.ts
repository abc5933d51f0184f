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

test('identity.keyStore defaults to file; pkcs11 needs module, exactly one of tokenLabel/slot, and a pin file, never an inline PIN', () => {
  assert.equal(validateConfig(base).identity.keyStore, 'file');
  const pkcs11 = { module: '/usr/lib/softhsm/libsofthsm2.so', tokenLabel: 'fieldgate', pinFile: '/var/lib/fieldgate/token.pin' };
  const config = validateConfig({ ...base, identity: { keyStore: 'pkcs11', pkcs11 } });
  assert.deepEqual(config.identity.pkcs11, { ...pkcs11, retryIntervalMs: 900_000 });
  assert.equal(validateConfig({ ...base, identity: { keyStore: 'pkcs11', pkcs11: { ...pkcs11, tokenLabel: undefined, slot: 0 } } }).identity.pkcs11?.slot, 0);

  assert.match(problems({ keyStore: 'pkcs11' }).join('\n'), /"identity\.pkcs11": identity\.keyStore pkcs11 needs identity\.pkcs11 with module, tokenLabel \(or slot\) and pinFile/);
  assert.match(problems({ keyStore: 'tpm' }).join('\n'), /"identity\.keyStore": expected "file" or "pkcs11"/);
  assert.match(problems({ pkcs11 }).join('\n'), /"identity\.keyStore": identity\.pkcs11 is set but identity\.keyStore is "file"/);
  assert.match(problems({ keyStore: 'pkcs11', pkcs11: { ...pkcs11, slot: 3 } }).join('\n'), /"identity\.pkcs11\.tokenLabel": name the token with exactly one of identity\.pkcs11\.tokenLabel or identity\.pkcs11\.slot/);
  assert.match(problems({ keyStore: 'pkcs11', pkcs11: { module: pkcs11.module, pinFile: pkcs11.pinFile } }).join('\n'), /exactly one of identity\.pkcs11\.tokenLabel or identity\.pkcs11\.slot/);
  assert.match(problems({ keyStore: 'pkcs11', pkcs11: { ...pkcs11, pin: '1234' } }).join('\n'), /"identity\.pkcs11\.pin": unknown key; allowed keys: .*pinFile/);
  assert.match(problems({ keyStore: 'pkcs11', pkcs11: { ...pkcs11, pinFile: undefined } }).join('\n'), /"identity\.pkcs11\.pinFile"/);
  assert.match(problems({ keyStore: 'pkcs11', keyAlgorithm: 'rsa-2048', pkcs11 }).join('\n'), /"identity\.keyAlgorithm": a key in a PKCS#11 token is ECDSA: use ecdsa-p256/);
  assert.match(problems({ keyStore: 'pkcs11', pkcs11: { ...pkcs11, retryIntervalMs: 1000 } }).join('\n'), /"identity\.pkcs11\.retryIntervalMs": expected at least 60000 ms/);
});
