import type { Reading, WireReading } from '../../main/shared/reading.js';

/**
 * A reading's wire form built the plain way, as DESIGN.md describes the payload: the oracle the
 * buffer's one encoder (main/buffer/wire.ts) is checked against, byte for byte once stringified.
 */
export function expectedWire(reading: Reading): WireReading {
  return { sensor: reading.sensorId, seq: reading.seq, ts: new Date(reading.ts).toISOString(), values: reading.values };
}
