import { test } from 'node:test';
import assert from 'node:assert/strict';
import {
  clockLooksWrongMessage,
  daysLeft,
  expiredMessage,
  expiryThresholdReached,
  rotationDueAt,
  validityAt,
} from '../../../main/identity/lifetime.js';

const DAY = 86_400_000;
const lifetime = { notBefore: new Date('2026-01-01T00:00:00Z'), notAfter: new Date('2027-01-01T00:00:00Z') };

test('validityAt tells not-yet-valid, valid and expired apart at the exact edges', () => {
  assert.equal(validityAt(lifetime, lifetime.notBefore.getTime() - 1), 'not-yet-valid');
  assert.equal(validityAt(lifetime, lifetime.notBefore.getTime()), 'valid');
  assert.equal(validityAt(lifetime, lifetime.notAfter.getTime()), 'valid');
  assert.equal(validityAt(lifetime, lifetime.notAfter.getTime() + 1), 'expired');
});

test('daysLeft rounds down and goes negative after expiry', () => {
  const end = lifetime.notAfter.getTime();
  assert.equal(daysLeft(lifetime, end - 30 * DAY), 30);
  assert.equal(daysLeft(lifetime, end - 30 * DAY + 1), 29);
  assert.equal(daysLeft(lifetime, end - 1), 0);
  assert.equal(daysLeft(lifetime, end + 1), -1);
  assert.equal(daysLeft(lifetime, end + 3 * DAY + 1), -4);
});

test('rotationDueAt is the given share of the lifetime after notBefore', () => {
  const start = lifetime.notBefore.getTime();
  const span = lifetime.notAfter.getTime() - start;
  assert.equal(rotationDueAt(lifetime, 0.5), start + span / 2);
  assert.equal(rotationDueAt(lifetime, 0.67), start + Math.floor(span * 0.67));
  assert.ok(rotationDueAt(lifetime, 0.9) > rotationDueAt(lifetime, 0.67));
});

test('expiryThresholdReached reports the smallest threshold the days left have reached', () => {
  const thresholds = [30, 7];
  assert.equal(expiryThresholdReached(31, thresholds), undefined);
  assert.equal(expiryThresholdReached(30, thresholds), 30);
  assert.equal(expiryThresholdReached(8, thresholds), 30);
  assert.equal(expiryThresholdReached(7, thresholds), 7);
  assert.equal(expiryThresholdReached(0, [7, 30]), 7);
});

test('the clock message names now and notBefore in ISO form', () => {
  const now = Date.parse('2020-03-01T12:00:00Z');
  const message = clockLooksWrongMessage(now, lifetime.notBefore);
  assert.match(message, /system clock looks wrong \(now=2020-03-01T12:00:00\.000Z, notBefore=2026-01-01T00:00:00\.000Z\)/);
});

test('the expiry message names the date and how long ago', () => {
  const message = expiredMessage(lifetime.notAfter.getTime() + 2 * DAY + 5, lifetime.notAfter);
  assert.match(message, /expired on 2027-01-01T00:00:00\.000Z \(2 days ago/);
  assert.match(message, /fieldgate identity csr/);
  assert.match(expiredMessage(lifetime.notAfter.getTime() + DAY, lifetime.notAfter), /\(1 day ago/);
});
