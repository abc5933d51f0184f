import assert from 'node:assert/strict';
import { test } from 'node:test';
import { formatBytes } from '../../../main/shared/units.js';

test('formatBytes: bytes below 1 KiB as they are, then binary units with one decimal', () => {
  assert.equal(formatBytes(0), '0 B');
  assert.equal(formatBytes(1023), '1023 B');
  assert.equal(formatBytes(1024), '1.0 KiB');
  assert.equal(formatBytes(1536), '1.5 KiB');
  assert.equal(formatBytes(5 * 1024 ** 2), '5.0 MiB');
  assert.equal(formatBytes(3.25 * 1024 ** 3), '3.3 GiB');
  assert.equal(formatBytes(2 * 1024 ** 4), '2.0 TiB');
  assert.equal(formatBytes(Number.MAX_SAFE_INTEGER), '8.0 PiB');
});
