import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { canonicalize, MAX_CANONICAL_DEPTH, parseCanonical } from '../../../main/ota/canonical-json.js';
import { OtaError, type OtaReason } from '../../../main/ota/reasons.js';

const bytes = (text: string) => new TextEncoder().encode(text);

function refuses(text: string, reason: OtaReason): void {
  assert.throws(
    () => parseCanonical(bytes(text), 'doc'),
    (error: unknown) => error instanceof OtaError && error.code === reason,
    text,
  );
}

describe('canonical JSON', () => {
  test('sorts keys at every depth, drops whitespace, keeps array order', () => {
    assert.equal(canonicalize({ b: 1, a: { d: [3, 1], c: 'é"\n' }, A: null, _: true }), '{"A":null,"_":true,"a":{"c":"é\\"\\n","d":[3,1]},"b":1}');
  });

  test('round-trips its own output', () => {
    const value = { z: [{ y: 'x', b: false }], n: -42, s: '\u2028' };
    assert.deepEqual(parseCanonical(bytes(canonicalize(value)), 'doc'), value);
  });

  test('refuses numbers that are not safe integers when encoding', () => {
    for (const bad of [1.5, -0, 2 ** 53, Number.NaN, Infinity]) assert.throws(() => canonicalize({ n: bad }), RangeError);
  });

  test('refuses every non-canonical spelling when parsing', () => {
    refuses('{"b":1,"a":2}', 'manifest-not-canonical');
    refuses('{"a": 1}', 'manifest-not-canonical');
    refuses('{"a":1}\n', 'manifest-not-canonical');
    refuses('{"a":1.0}', 'manifest-not-canonical');
    refuses('{"a":1e3}', 'manifest-not-canonical');
    refuses('{"a":-0}', 'manifest-not-canonical');
    refuses('{"a":1,"a":1}', 'manifest-not-canonical');
    refuses('{"a":"\\u0041"}', 'manifest-not-canonical');
    refuses('{"a":0.5}', 'manifest-number-out-of-range');
    refuses('{"a":9007199254740992}', 'manifest-number-out-of-range');
    refuses('{"a":', 'manifest-invalid');
  });

  test('refuses invalid UTF-8', () => {
    assert.throws(() => parseCanonical(Uint8Array.from([0x7b, 0x22, 0xff, 0x22, 0x3a, 0x31, 0x7d]), 'doc'), (e: unknown) => e instanceof OtaError && e.code === 'manifest-invalid');
  });

  test('refuses a UTF-8 byte-order mark instead of dropping it', () => {
    const text = canonicalize({ a: 1 });
    assert.deepEqual(parseCanonical(bytes(text), 'doc'), { a: 1 });
    assert.throws(
      () => parseCanonical(Uint8Array.from([0xef, 0xbb, 0xbf, ...bytes(text)]), 'doc'),
      (e: unknown) => e instanceof OtaError && e.code === 'manifest-not-canonical' && /byte-order mark/.test(e.message),
    );
  });

  test('bounds the nesting depth, counting only brackets outside strings', () => {
    const nest = (depth: number) => `${'['.repeat(depth)}${']'.repeat(depth)}`;
    assert.deepEqual(parseCanonical(bytes(`{"a":${nest(MAX_CANONICAL_DEPTH - 1)}}`), 'doc'), { a: JSON.parse(nest(MAX_CANONICAL_DEPTH - 1)) });
    refuses(`{"a":${nest(MAX_CANONICAL_DEPTH)}}`, 'manifest-too-deep');
    refuses(nest(100_000), 'manifest-too-deep');
    const brackets = `${'['.repeat(1000)}\\"{`;
    assert.deepEqual(parseCanonical(bytes(canonicalize({ a: brackets })), 'doc'), { a: brackets });
  });
});
