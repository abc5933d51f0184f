import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createStatusBackend } from '../../../main/api/status-backend.js';
import { gatewayStatusSchema } from '../../../main/shared/api.js';
import type { UplinkStatus } from '../../../main/uplink/uplink.js';

test('status: the uplink\'s last error carries its fix hint, the certificate its days left, the alerts come from the alerts component', async () => {
  const now = Date.parse('2026-06-01T00:00:00Z');
  const uplink: UplinkStatus = {
    state: 'waiting',
    broker: 'mqtts://broker:8883',
    gatewayId: 'gw',
    protocolVersion: 5,
    connectedSince: null,
    nextAttemptAt: null,
    lastError: { kind: 'unknown-ca', message: 'broker certificate not from caFile', at: '2026-06-01T00:00:00.000Z' },
    errors: { 'unknown-ca': 1 },
    inFlightMessages: 0,
    readingsSent: 0,
    certificate: null,
  };
  const alert = { key: 'sensor-silent:t1', kind: 'sensor-silent', subject: 't1', severity: 'warning' as const, message: 'sensor "t1" sent nothing', raisedAt: '2026-06-01T00:00:00.000Z', clearedAt: null };
  const backend = createStatusBackend({
    gatewayId: 'gw',
    startedAt: new Date(now),
    components: () => [],
    sources: () => [],
    buffer: () => ({ depth: 0, bytes: 0, inFlight: 0, oldestUnsentAgeMs: null, drops: { capacity: 0, ttl: 0, 'io-error': 0, refused: 0 }, pendingDropRecords: 0 }),
    uplink: () => uplink,
    certificate: () => ({
      managed: 'on-box',
      info: { subject: 'CN=gw', commonName: 'gw', issuer: 'CN=ca', serial: '1', notBefore: new Date(now - 86_400_000), notAfter: new Date(now + 10 * 86_400_000), subjectAltNames: [], fingerprint256: 'AA' },
    }),
    alerts: () => ({ active: [alert], counts: { info: 0, warning: 1, critical: 0 } }),
    keyStore: { kind: 'pkcs11', hardwareBacked: true, extractable: false, token: 'token "fg"' },
    now: () => now,
  });
  const status = gatewayStatusSchema.parse(await backend.status());
  assert.match(status.uplink?.lastError?.hint ?? '', /upload the CA/);
  assert.equal(status.identity?.daysLeft, 10);
  assert.equal(status.identity?.validity, 'valid');
  assert.deepEqual(status.alerts, { active: [alert], counts: { info: 0, warning: 1, critical: 0 } });
  assert.deepEqual(status.identity?.keyStore, { kind: 'pkcs11', hardwareBacked: true, extractable: false, token: 'token "fg"' }, 'the on-box identity names its key store');
});
