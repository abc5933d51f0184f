import type { DropRecord, LeasedReading } from '../buffer/types.js';
import type { Alert } from '../shared/alert.js';
import { toWire } from '../shared/reading.js';

/** One MQTT message worth of readings of one sensor, with the buffer row ids to ack on PUBACK. */
export interface ReadingsMessage {
  sensorId: string;
  ids: number[];
  payload: Buffer;
}

/** `{"readings":[...]}`, splicing the buffer's pre-encoded wire JSON where it has it. */
function encode(readings: readonly LeasedReading[]): Buffer {
  const parts = readings.map((r) => r.wire ?? JSON.stringify(toWire(r)));
  return Buffer.from(`{"readings":[${parts.join(',')}]}`);
}

/**
 * Groups leased readings into messages: one sensor per message (the topic names it), in lease
 * order, at most `maxReadings` readings and `maxBytes` payload bytes each. A reading that alone
 * exceeds `maxBytes` still goes out, alone.
 */
export function packReadings(leased: readonly LeasedReading[], limits: { maxReadings: number; maxBytes: number }): ReadingsMessage[] {
  const bySensor = new Map<string, LeasedReading[]>();
  for (const reading of leased) {
    const list = bySensor.get(reading.sensorId);
    if (list) list.push(reading);
    else bySensor.set(reading.sensorId, [reading]);
  }
  const messages: ReadingsMessage[] = [];
  for (const [sensorId, readings] of bySensor) {
    for (let start = 0; start < readings.length; start += limits.maxReadings) {
      splitBySize(sensorId, readings.slice(start, start + limits.maxReadings), limits.maxBytes, messages);
    }
  }
  return messages;
}

function splitBySize(sensorId: string, readings: LeasedReading[], maxBytes: number, out: ReadingsMessage[]): void {
  const payload = encode(readings);
  if (payload.length <= maxBytes || readings.length === 1) {
    out.push({ sensorId, ids: readings.map((r) => r.id), payload });
    return;
  }
  const half = Math.ceil(readings.length / 2);
  splitBySize(sensorId, readings.slice(0, half), maxBytes, out);
  splitBySize(sensorId, readings.slice(half), maxBytes, out);
}

/** The alert the cloud receives for readings the buffer dropped on purpose (capacity, TTL, I/O error). */
export function dropAlert(gatewayId: string, record: DropRecord): Buffer {
  return Buffer.from(
    JSON.stringify({
      type: 'readings-dropped',
      gateway: gatewayId,
      sensor: record.sensorId,
      reason: record.reason,
      count: record.count,
      firstSeq: record.firstSeq,
      lastSeq: record.lastSeq,
      ts: new Date(record.ts).toISOString(),
    }),
  );
}

/** An alert (disk full, quarantined file, certificate expiring…) for the cloud. */
export function alertMessage(gatewayId: string, alert: Alert): Buffer {
  return Buffer.from(
    JSON.stringify({
      type: alert.type,
      gateway: gatewayId,
      kind: alert.kind,
      severity: alert.severity,
      message: alert.message,
      ts: new Date(alert.ts).toISOString(),
    }),
  );
}

/** The retained `…/status` message while connected. */
export function onlineStatus(version: string, bufferDepth: number | null, now: number): Buffer {
  return Buffer.from(JSON.stringify({ online: true, version, bufferDepth, ts: new Date(now).toISOString() }));
}

/** The retained `…/status` message when the gateway goes offline (also its MQTT will). */
export function offlineStatus(version: string): Buffer {
  return Buffer.from(JSON.stringify({ online: false, version }));
}
