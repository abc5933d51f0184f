import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { StorageHealth } from '../../../main/buffer/storage-health.js';
import type { BufferAlert } from '../../../main/buffer/types.js';

const failure = (code: string) => Object.assign(new Error(`simulated ${code}`), { code });

function health(fullPolicy: 'drop-oldest' | 'drop-newest' = 'drop-oldest') {
  const clock = { ms: 1_000_000, now: () => clock.ms };
  const alerts: Array<Omit<BufferAlert, 'ts'>> = [];
  const subject = new StorageHealth({ options: { maxRows: 100, maxBytes: 10_000, fullPolicy }, clock, metrics: undefined, raise: (alert) => alerts.push(alert) });
  return { subject, clock, alerts, kinds: () => alerts.map((alert) => alert.kind) };
}

describe('StorageHealth', () => {
  it('alerts once per kind of failure, not once per failed write', () => {
    const { subject, kinds, alerts } = health();
    subject.failed(failure('SQLITE_FULL'));
    subject.failed(failure('SQLITE_FULL'));
    assert.equal(subject.failing, 'disk-full');
    subject.failed(failure('SQLITE_IOERR_WRITE'));
    subject.failed(failure('SQLITE_IOERR_WRITE'));
    assert.equal(subject.failing, 'io-error');
    assert.deepEqual(kinds(), ['disk-full', 'io-error']);
    assert.match(alerts[0]?.message ?? '', /simulated SQLITE_FULL.*drop-oldest.*free space/);
    assert.equal(alerts[0]?.severity, 'critical');
  });

  it('reports recovery only after a quiet period without failures', () => {
    const { subject, clock, kinds } = health();
    subject.failed(failure('ENOSPC'));
    clock.ms += 29_999;
    subject.stored(clock.ms);
    assert.equal(subject.failing, 'disk-full');
    clock.ms += 1;
    subject.stored(clock.ms);
    assert.equal(subject.failing, undefined);
    assert.deepEqual(kinds(), ['disk-full', 'recovered']);
    subject.stored(clock.ms + 60_000);
    assert.deepEqual(kinds(), ['disk-full', 'recovered']);
  });

  it('raises the capacity alert once and again only after dropping below 95% of both limits', () => {
    const { subject, kinds, alerts } = health('drop-newest');
    subject.committed(2, 100, 5_000);
    subject.committed(1, 100, 5_000);
    assert.deepEqual(kinds(), ['capacity']);
    assert.match(alerts[0]?.message ?? '', /100 readings, 5000 bytes.*drop-newest/);
    subject.committed(0, 95, 5_000);
    subject.committed(1, 100, 5_000);
    assert.deepEqual(kinds(), ['capacity'], 'still at 95% of maxRows: no new alert');
    subject.committed(0, 94, 9_499);
    subject.committed(1, 100, 5_000);
    assert.deepEqual(kinds(), ['capacity', 'capacity']);
  });

  it('does not raise the capacity alert while storage is failing', () => {
    const { subject, kinds } = health();
    subject.failed(failure('SQLITE_FULL'));
    subject.committed(3, 100, 5_000);
    assert.deepEqual(kinds(), ['disk-full']);
  });
});
