import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, it } from 'node:test';
import { AlertCenter } from '../../../main/alerts/alert-center.js';
import { silentLogger } from '../../../main/log/logger.js';
import { createMetricsRegistry } from '../../../main/metrics/registry.js';
import type { AlertCondition } from '../../../main/shared/alert.js';

const silent = (subject: string, severity: AlertCondition['severity'] = 'warning'): AlertCondition => ({
  type: 'sensor-alert',
  kind: 'sensor-silent',
  subject,
  severity,
  message: `${subject} is silent`,
});

describe('AlertCenter (real SQLite file)', () => {
  let dir: string;
  let now: number;
  const centers: AlertCenter[] = [];

  async function open(): Promise<AlertCenter> {
    const center = new AlertCenter({ file: join(dir, 'alerts.db'), gatewayId: 'gw-1', keepRecent: () => 3, log: silentLogger, clock: { now: () => now }, metrics: createMetricsRegistry({ processMetrics: false }) });
    await center.start();
    centers.push(center);
    return center;
  }
  const wire = (center: AlertCenter) => center.pending(100).map((entry) => JSON.parse(entry.payload) as Record<string, unknown>);

  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), 'fieldgate-alerts-unit-'));
    now = Date.UTC(2026, 0, 1);
  });
  afterEach(async () => {
    for (const center of centers.splice(0)) await center.stop();
    rmSync(dir, { recursive: true, force: true });
  });

  it('a raise, an unchanged raise, a new severity and a clear give three messages with seqs 1, 2, 3', async () => {
    const center = await open();
    center.raise(silent('t1'));
    center.raise(silent('t1'));
    center.raise(silent('t1', 'critical'));
    now += 1_000;
    center.clear('sensor-silent:t1');
    center.clear('sensor-silent:t1');
    const messages = wire(center);
    assert.deepEqual(messages.map((m) => [m.event, m.seq, m.severity]), [['raise', 1, 'warning'], ['raise', 2, 'critical'], ['clear', 3, 'critical']]);
    assert.deepEqual(messages[0], {
      event: 'raise', key: 'sensor-silent:t1', seq: 1, type: 'sensor-alert', gateway: 'gw-1', kind: 'sensor-silent', subject: 't1',
      severity: 'warning', message: 't1 is silent', raisedAt: '2026-01-01T00:00:00.000Z', clearedAt: null, ts: '2026-01-01T00:00:00.000Z',
    });
    assert.equal(messages[2]?.clearedAt, '2026-01-01T00:00:01.000Z');
    assert.deepEqual(center.active(), []);
    assert.equal(center.recent()[0]?.clearedAt, '2026-01-01T00:00:01.000Z');
  });

  it('active alerts, the outbox and the seqs survive a reopen; a raise after it continues the seq', async () => {
    const first = await open();
    first.raise(silent('t1'));
    first.raise(silent('t2'));
    const [delivered] = first.pending(1);
    first.delivered((delivered as { id: number }).id);
    await first.stop();
    centers.pop();
    const second = await open();
    assert.deepEqual(second.active().map((a) => a.key), ['sensor-silent:t1', 'sensor-silent:t2']);
    assert.deepEqual(wire(second).map((m) => m.key), ['sensor-silent:t2'], 'only the unacknowledged message is left');
    second.raise(silent('t1'));
    assert.equal(wire(second).length, 1, 'raising an active alert after the restart sends nothing');
    second.clear('sensor-silent:t1');
    assert.deepEqual(wire(second).at(-1), { ...wire(second).at(-1), event: 'clear', seq: 2 });
    assert.deepEqual(second.counts(), { info: 0, warning: 1, critical: 0 });
  });

  it("reconcile raises a rule's conditions and clears its other kinds' alerts, leaving other kinds alone", async () => {
    const center = await open();
    center.raise(silent('t1'));
    center.raise({ type: 'storage-alert', kind: 'disk-low', subject: 'disk', severity: 'critical', message: 'low' });
    center.reconcile(['sensor-silent'], [silent('t2')]);
    assert.deepEqual(center.active().map((a) => a.key).sort(), ['disk-low:disk', 'sensor-silent:t2']);
  });

  it("parts' alerts: disk-full raises, recovered clears it; capacity is a notice; rotated clears the expiry alerts", async () => {
    const center = await open();
    center.report({ type: 'buffer-alert', kind: 'disk-full', severity: 'critical', message: 'disk full', ts: now });
    assert.deepEqual(center.active().map((a) => a.key), ['disk-full:buffer']);
    center.report({ type: 'buffer-alert', kind: 'recovered', severity: 'info', message: 'ok', ts: now });
    center.report({ type: 'buffer-alert', kind: 'capacity', severity: 'warning', message: 'dropping', ts: now });
    center.report({ type: 'identity-alert', kind: 'cert-expiring', severity: 'warning', message: '29 days', ts: now });
    center.report({ type: 'identity-alert', kind: 'cert-expired', severity: 'critical', message: 'expired', ts: now });
    assert.deepEqual(center.active().map((a) => a.key), ['cert-expired:identity']);
    center.report({ type: 'identity-alert', kind: 'rotated', severity: 'info', message: 'new cert', ts: now });
    assert.deepEqual(center.active(), []);
    assert.deepEqual(wire(center).map((m) => `${m.event} ${m.key}`), [
      'raise disk-full:buffer', 'clear disk-full:buffer', 'notice capacity:buffer', 'raise cert-expiring:identity',
      'clear cert-expiring:identity', 'raise cert-expired:identity', 'clear cert-expired:identity',
    ]);
    assert.equal(center.recent().length, 3, 'alerts.keepRecent cleared alerts are kept');
  });

  it('reports made before start are kept and applied once the store is open', async () => {
    const center = new AlertCenter({ file: join(dir, 'alerts.db'), gatewayId: 'gw-1', keepRecent: () => 3, log: silentLogger, clock: { now: () => now }, metrics: createMetricsRegistry({ processMetrics: false }) });
    center.raise(silent('early'));
    await center.start();
    centers.push(center);
    assert.deepEqual(center.active().map((a) => a.key), ['sensor-silent:early']);
  });
});
