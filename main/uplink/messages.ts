import type { DropRecord, LeasedReading } from '../buffer/types.js';
import type { AlertSeverity } from '../shared/alert.js';

/** One MQTT message worth of readings of one sensor, with the buffer row ids to ack on PUBACK. */
export interface ReadingsMessage {
  sensorId: string;
  ids: number[];
  payload: Buffer;
}

/** `{"readings":[...]}`, splicing the buffer's pre-encoded wire JSON. */
export function encodeReadings(readings: readonly LeasedReading[]): Buffer {
  const parts = readings.map((r) => r.wire);
  return Buffer.from(`{"readings":[${parts.join(',')}]}`);
}

export interface PackLimits {
  maxReadings: number;
  /** cloud.batch.maxBytes: a single reading larger than this still goes, alone. */
  maxBytes: number;
  /** The largest payload the broker takes on this sensor's topic; a reading larger than this alone cannot be sent. */
  payloadLimit?: (sensorId: string) => number;
  /** Readings to send in a message of their own (suspected of getting their message refused). */
  alone?: (id: number) => boolean;
  /** The payload of one message; `{"readings":[...]}` unless the cloud profile has its own. */
  encode?: (sensorId: string, readings: readonly LeasedReading[]) => Buffer;
}

export interface PackedReadings {
  messages: ReadingsMessage[];
  /** Readings that alone exceed `payloadLimit`: no broker honouring its limit would take them. */
  unsendable: LeasedReading[];
}

/**
 * Groups leased readings into messages: one sensor per message (the topic names it), in lease
 * order, at most `maxReadings` readings and `maxBytes` (and `payloadLimit`) payload bytes each.
 */
export function packReadings(leased: readonly LeasedReading[], limits: PackLimits): PackedReadings {
  const bySensor = new Map<string, LeasedReading[]>();
  for (const reading of leased) {
    const list = bySensor.get(reading.sensorId);
    if (list) list.push(reading);
    else bySensor.set(reading.sensorId, [reading]);
  }
  const packed: PackedReadings = { messages: [], unsendable: [] };
  const encode = limits.encode ?? ((_sensorId: string, readings: readonly LeasedReading[]) => encodeReadings(readings));
  for (const [sensorId, readings] of bySensor) {
    const hardMax = limits.payloadLimit?.(sensorId) ?? Number.POSITIVE_INFINITY;
    const split = (run: LeasedReading[]) => {
      for (let start = 0; start < run.length; start += limits.maxReadings) {
        splitBySize(sensorId, run.slice(start, start + limits.maxReadings), { maxBytes: Math.min(limits.maxBytes, hardMax), hardMax, encode }, packed);
      }
    };
    let run: LeasedReading[] = [];
    for (const reading of readings) {
      if (!limits.alone?.(reading.id)) {
        run.push(reading);
        continue;
      }
      split(run);
      run = [];
      split([reading]);
    }
    split(run);
  }
  return packed;
}

interface SplitLimits {
  maxBytes: number;
  hardMax: number;
  encode: (sensorId: string, readings: readonly LeasedReading[]) => Buffer;
}

function splitBySize(sensorId: string, readings: LeasedReading[], limits: SplitLimits, out: PackedReadings): void {
  if (readings.length === 0) return;
  const { maxBytes, hardMax } = limits;
  const payload = limits.encode(sensorId, readings);
  if (payload.length <= maxBytes || readings.length === 1) {
    if (payload.length > hardMax) out.unsendable.push(...readings);
    else out.messages.push({ sensorId, ids: readings.map((r) => r.id), payload });
    return;
  }
  const half = Math.ceil(readings.length / 2);
  splitBySize(sensorId, readings.slice(0, half), limits, out);
  splitBySize(sensorId, readings.slice(half), limits, out);
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

/** The status while connected: the retained `…/status` message, or a platform's status property. */
export function onlineStatusFields(version: string, bufferDepth: number | null, alerts: Record<AlertSeverity, number> | null, now: number) {
  return { online: true, version, bufferDepth, alerts, ts: new Date(now).toISOString() };
}

export function onlineStatus(version: string, bufferDepth: number | null, alerts: Record<AlertSeverity, number> | null, now: number): Buffer {
  return Buffer.from(JSON.stringify(onlineStatusFields(version, bufferDepth, alerts, now)));
}

/** The status when the gateway goes offline (also its MQTT will). */
export function offlineStatusFields(version: string) {
  return { online: false, version };
}

export function offlineStatus(version: string): Buffer {
  return Buffer.from(JSON.stringify(offlineStatusFields(version)));
}
