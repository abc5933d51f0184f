import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { LeasedReading } from '../../../main/buffer/types.js';
import { expectedWire } from '../../helpers/wire.js';
import { dropAlert, offlineStatus, onlineStatus, packReadings } from '../../../main/uplink/messages.js';

function reading(id: number, sensorId: string, seq: number): LeasedReading {
  const r = { id, sensorId, seq, ts: Date.UTC(2026, 0, 1) + seq, values: { temperature: { value: seq / 10, unit: '°C' } } };
  return { ...r, wire: JSON.stringify(expectedWire(r)) };
}

const body = (payload: Buffer) => JSON.parse(payload.toString()) as { readings: Array<{ sensor: string; seq: number; ts: string }> };

describe('packReadings', () => {
  it('puts one sensor per message, keeps lease order, and uses the DESIGN.md payload', () => {
    const leased = [reading(1, 'a', 1), reading(2, 'b', 1), reading(3, 'a', 2), reading(4, 'b', 2)];
    const { messages } = packReadings(leased, { maxReadings: 100, maxBytes: 65_536 });
    assert.deepEqual(messages.map((m) => [m.sensorId, m.ids]), [['a', [1, 3]], ['b', [2, 4]]]);
    assert.deepEqual(body(messages[1]!.payload), { readings: [expectedWire(reading(2, 'b', 1)), expectedWire(reading(4, 'b', 2))] });
    assert.equal(body(messages[0]!.payload).readings[0]?.ts, '2026-01-01T00:00:00.001Z');
  });

  it('respects maxReadings and maxBytes, and sends an oversized single reading alone', () => {
    const leased = Array.from({ length: 25 }, (_, i) => reading(i + 1, 's', i + 1));
    assert.deepEqual(packReadings(leased, { maxReadings: 10, maxBytes: 65_536 }).messages.map((m) => m.ids.length), [10, 10, 5]);
    const bySize = packReadings(leased, { maxReadings: 100, maxBytes: 500 }).messages;
    assert.ok(bySize.every((m) => m.payload.length <= 500));
    assert.deepEqual(bySize.flatMap((m) => m.ids), leased.map((r) => r.id));
    const tiny = packReadings(leased.slice(0, 2), { maxReadings: 100, maxBytes: 10 }).messages;
    assert.deepEqual(tiny.map((m) => m.ids), [[1], [2]]);
  });

  it("keeps every message within the broker's payload limit and reports readings that cannot fit alone", () => {
    const leased = Array.from({ length: 30 }, (_, i) => reading(i + 1, i % 2 ? 'b' : 'a', i + 1));
    const bigReading = { id: 99, sensorId: 'a', seq: 99, ts: Date.UTC(2026, 0, 1), values: { blob: { value: 1, unit: 'x'.repeat(2_000) } } };
    const big: LeasedReading = { ...bigReading, wire: JSON.stringify(expectedWire(bigReading)) };
    const limits = { a: 600, b: 300 };
    const packed = packReadings([...leased.slice(0, 10), big, ...leased.slice(10)], {
      maxReadings: 100,
      maxBytes: 65_536,
      payloadLimit: (sensorId) => limits[sensorId as 'a' | 'b'],
    });
    for (const m of packed.messages) assert.ok(m.payload.length <= limits[m.sensorId as 'a' | 'b'], `${m.sensorId}: ${m.payload.length} bytes`);
    assert.ok(packed.messages.some((m) => m.ids.length > 1), 'still batches');
    assert.deepEqual(packed.unsendable.map((r) => r.id), [99]);
    assert.deepEqual(packed.messages.flatMap((m) => m.ids).sort((x, y) => x - y), leased.map((r) => r.id));
  });

  it('sends suspects alone and keeps each sensor in lease order around them', () => {
    const leased = Array.from({ length: 6 }, (_, i) => reading(i + 1, 's', i + 1));
    const { messages } = packReadings(leased, { maxReadings: 100, maxBytes: 65_536, alone: (id) => id === 3 });
    assert.deepEqual(messages.map((m) => m.ids), [[1, 2], [3], [4, 5, 6]]);
  });

  it('describes a drop record for the alerts topic', () => {
    const alert = JSON.parse(dropAlert('gw-1', { id: 7, sensorId: 't1', reason: 'capacity', count: 15, firstSeq: 1, lastSeq: 15, ts: Date.UTC(2026, 0, 1) }).toString()) as Record<string, unknown>;
    assert.deepEqual(alert, { type: 'readings-dropped', gateway: 'gw-1', sensor: 't1', reason: 'capacity', count: 15, firstSeq: 1, lastSeq: 15, ts: '2026-01-01T00:00:00.000Z' });
  });
});

describe('status messages', () => {
  it('online carries the version, buffer depth and active alerts by severity (null when unknown) and time; offline only the version', () => {
    const now = Date.UTC(2026, 0, 2, 3, 4, 5);
    assert.equal(
      onlineStatus('1.2.3', 42, { info: 0, warning: 2, critical: 1 }, now).toString(),
      '{"online":true,"version":"1.2.3","bufferDepth":42,"alerts":{"info":0,"warning":2,"critical":1},"ts":"2026-01-02T03:04:05.000Z"}',
    );
    assert.equal(onlineStatus('1.2.3', null, null, now).toString(), '{"online":true,"version":"1.2.3","bufferDepth":null,"alerts":null,"ts":"2026-01-02T03:04:05.000Z"}');
    assert.equal(offlineStatus('1.2.3').toString(), '{"online":false,"version":"1.2.3"}');
  });
});
