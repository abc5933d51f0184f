import type { Component } from './lifecycle.js';
import type { Sample } from './reading.js';

/**
 * Where sources hand their samples. `accept` resolves once the sample is durable (the buffer's
 * group commit returned); a source may ignore the promise but must not lose the sample before it.
 */
export interface SampleSink {
  accept(sample: Sample): Promise<void>;
}

/** What a source knows about a sensor beyond its activity. */
export interface SensorFacts {
  /** Serial: the port entry (`sensors.serial[].id`) that reads it; removing that entry removes the sensor. */
  port?: string;
  /** Modbus TCP: the server entry (`sensors.modbusTcp[].id`) that polls it. */
  server?: string;
  /** BLE: the signal strength of its latest advertisement, in dBm. */
  rssi?: number;
}

export interface SensorStatus extends SensorFacts {
  sensorId: string;
  source: string;
  online: boolean;
  /** Milliseconds since the epoch, or null when nothing was received yet. */
  lastSeen: number | null;
  /** Samples per second over the recent window. */
  rate: number;
}

/** A sensor source (sim, serial, ble). Sources never import the uplink; they meet at the buffer. */
export interface Source extends Component {
  sensors(): SensorStatus[];
}
