import { test } from 'node:test';
import assert from 'node:assert/strict';
import { chmodSync, mkdtempSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { HardwareKeyError } from '../../../../main/identity/errors.js';
import { readPin } from '../../../../main/identity/key-store/pkcs11-token.js';

function pinConfig(pinFile: string) {
  return { module: '/usr/lib/softhsm/libsofthsm2.so', tokenLabel: 'fg', pinFile, retryIntervalMs: 900_000 };
}

test('the PIN file is checked before any token sees it: 0600, a regular file, not empty, no line break', (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'fieldgate-pin-'));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  const file = join(dir, 'token.pin');
  const refusal = (pattern: RegExp) => (error: unknown) => error instanceof HardwareKeyError && error.problem === 'hardware-key-unavailable' && pattern.test(error.message);

  writeFileSync(file, '246810', { mode: 0o600 });
  assert.equal(readPin(pinConfig(file)), '246810');

  chmodSync(file, 0o640);
  assert.throws(() => readPin(pinConfig(file)), refusal(new RegExp(`identity\\.pkcs11\\.pinFile "${file}" is readable by group or others \\(mode 640\\): chmod 600 ${file}`)));
  chmodSync(file, 0o600);

  writeFileSync(file, '246810\n');
  assert.throws(() => readPin(pinConfig(file)), refusal(/contains a line break, which the token would take as part of the PIN: write it with printf '%s'/));
  writeFileSync(file, '');
  assert.throws(() => readPin(pinConfig(file)), refusal(/is empty: write the token's user PIN into it/));
  assert.throws(() => readPin(pinConfig(join(dir, 'missing.pin'))), refusal(/cannot be read \(ENOENT\): create it with the token's user PIN, mode 0600/));
  symlinkSync(file, join(dir, 'link.pin'));
  assert.throws(() => readPin(pinConfig(join(dir, 'link.pin'))), refusal(/is not a regular file/));
});
