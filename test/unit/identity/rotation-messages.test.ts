import { test } from 'node:test';
import assert from 'node:assert/strict';
import { parseIssuedMessage } from '../../../main/identity/rotation-messages.js';

const PEM = '-----BEGIN CERTIFICATE-----\nMIIB\n-----END CERTIFICATE-----\n';

test('cert/issued with a certificate is accepted', () => {
  assert.deepEqual(parseIssuedMessage(Buffer.from(JSON.stringify({ requestId: 'r1', cert: PEM }))), { requestId: 'r1', cert: PEM });
});

test('cert/issued with a refusal carries the reason', () => {
  assert.deepEqual(parseIssuedMessage(JSON.stringify({ requestId: 'r1', error: 'CN not allowed' })), { requestId: 'r1', error: 'CN not allowed' });
});

test('malformed cert/issued messages say what is wrong', () => {
  assert.deepEqual(parseIssuedMessage('not json'), { invalid: 'not JSON' });
  assert.deepEqual(parseIssuedMessage('[1]'), { invalid: '"requestId": expected a non-empty string' });
  assert.deepEqual(parseIssuedMessage('null'), { invalid: 'expected a JSON object' });
  assert.deepEqual(parseIssuedMessage(JSON.stringify({ requestId: '' , cert: PEM })), { invalid: '"requestId": expected a non-empty string' });
  assert.deepEqual(parseIssuedMessage(JSON.stringify({ requestId: 'r1' })), { invalid: 'expected "cert" (PEM) or "error" (reason)' });
  assert.match(String((parseIssuedMessage(Buffer.alloc(70_000, 32)) as { invalid: string }).invalid), /larger than/);
});
