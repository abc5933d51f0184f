import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { bufferSchema } from '../../../../main/shared/config/buffer.js';

function firstError(input: unknown): string {
  const result = bufferSchema.safeParse(input);
  assert.equal(result.success, false);
  return `${result.error?.issues[0]?.path.join('.')}: ${result.error?.issues[0]?.message}`;
}

describe('buffer config', () => {
  it('defaults to a durable, bounded buffer', () => {
    assert.deepEqual(bufferSchema.parse(undefined), {
      synchronous: 'full',
      commitWindowMs: 5,
      maxRows: 5_000_000,
      maxBytes: 1024 * 1024 * 1024,
      fullPolicy: 'drop-oldest',
    });
  });

  it('says what is allowed for each bad value', () => {
    assert.equal(firstError({ synchronous: 'off' }), 'synchronous: expected "full" or "normal"');
    assert.equal(firstError({ commitWindowMs: 50 }), 'commitWindowMs: expected an integer from 0 to 10 (milliseconds)');
    assert.equal(firstError({ maxRows: -1 }), 'maxRows: expected an integer > 0');
    assert.equal(firstError({ maxRows: 1.5 }), 'maxRows: expected an integer > 0');
    assert.equal(firstError({ fullPolicy: 'drop-random' }), 'fullPolicy: expected "drop-oldest" or "drop-newest"');
    assert.equal(firstError({ ttlHours: 0 }), 'ttlHours: expected a number of hours > 0 (omit the key to keep readings until sent)');
    assert.equal(firstError({ maxFileBytes: 1000 }), 'maxFileBytes: expected an integer >= 65536');
    assert.match(firstError({ maxrows: 5 }), /maxrows/);
  });
});
