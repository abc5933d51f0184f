import type { Sample } from '../shared/reading.js';

/** Latest instant `Date#toISOString` can print (±8.64e15 ms). */
const MAX_TS = 8.64e15;

function describe(value: unknown): string {
  if (typeof value === 'number') return String(value);
  return value === undefined ? 'nothing' : JSON.stringify(value) ?? String(value);
}

/** Throws a RangeError naming the field when a sample could not be stored and sent faithfully. */
export function checkSample(sample: Sample): void {
  if (typeof sample.sensorId !== 'string' || sample.sensorId.length === 0) {
    throw new RangeError(`"sample.sensorId": expected a non-empty string, got ${describe(sample.sensorId)}`);
  }
  if (typeof sample.ts !== 'number' || !Number.isFinite(sample.ts) || Math.abs(sample.ts) > MAX_TS) {
    throw new RangeError(`"sample.ts": expected epoch milliseconds, got ${describe(sample.ts)}`);
  }
  if (typeof sample.values !== 'object' || sample.values === null || Array.isArray(sample.values)) {
    throw new RangeError(`"sample.values": expected an object of {value, unit}, got ${describe(sample.values)}`);
  }
  for (const [quantity, measurement] of Object.entries(sample.values)) {
    if (typeof measurement?.value !== 'number' || !Number.isFinite(measurement.value)) {
      throw new RangeError(`"sample.values.${quantity}.value": expected a finite number, got ${describe(measurement?.value)}`);
    }
    if (typeof measurement.unit !== 'string') {
      throw new RangeError(`"sample.values.${quantity}.unit": expected a string, got ${describe(measurement.unit)}`);
    }
  }
}
