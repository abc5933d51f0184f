import type { Values } from '../shared/reading.js';
import type { StoredRow } from './store.js';
import type { LeasedReading } from './types.js';
import { encodeWire } from './wire.js';

/**
 * A leased reading. The uplink sends `wire` and never looks at `values`, so they are parsed only
 * when read (a large drain would otherwise build and collect an object tree per reading).
 */
export class LeasedRow implements LeasedReading {
  readonly id: number;
  readonly sensorId: string;
  readonly seq: number;
  readonly ts: number;
  readonly wire: string;
  readonly #valuesJson: string;
  #values: Values | undefined;

  constructor(row: StoredRow) {
    this.id = row.id;
    this.sensorId = row.sensorId;
    this.seq = row.seq;
    this.ts = row.ts;
    this.wire = row.wire ?? encodeWire(row.sensorId, row.seq, row.ts, row.valuesJson);
    this.#valuesJson = row.valuesJson;
  }

  get values(): Values {
    return (this.#values ??= JSON.parse(this.#valuesJson) as Values);
  }
}
