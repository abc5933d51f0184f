/** One measured quantity, e.g. `{ value: 21.5, unit: '°C' }`. */
export interface Measurement {
  value: number;
  unit: string;
}

/** Quantity name (temperature, humidity, …) to measurement. */
export type Values = Record<string, Measurement>;

/** What a source produces: a reading before the buffer has given it a sequence number. */
export interface Sample {
  sensorId: string;
  /** Milliseconds since the Unix epoch, UTC. */
  ts: number;
  values: Values;
}

/** An accepted reading: durable in the buffer, with its per-sensor sequence number. */
export interface Reading extends Sample {
  seq: number;
}

/**
 * The wire form inside `{"readings":[...]}` on `<prefix>/<gatewayId>/readings/<sensorId>`, keys in
 * this order; `ts` is ISO-8601 UTC. The buffer encodes it once per reading (main/buffer/wire.ts).
 */
export interface WireReading {
  sensor: string;
  seq: number;
  ts: string;
  values: Values;
}
