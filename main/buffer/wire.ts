/**
 * The wire JSON of one reading, byte-identical to `JSON.stringify(toWire(reading))` (same key
 * order), built from the already encoded values so nothing is encoded twice.
 */
export function encodeWire(sensorId: string, seq: number, ts: number, valuesJson: string): string {
  return `{"sensor":${JSON.stringify(sensorId)},"seq":${seq},"ts":"${new Date(ts).toISOString()}","values":${valuesJson}}`;
}
