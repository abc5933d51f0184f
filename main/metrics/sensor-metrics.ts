import { Gauge } from 'prom-client';
import type { Clock } from '../shared/clock.js';
import type { Sample } from '../shared/reading.js';
import type { SensorStatus, Source } from '../shared/source.js';
import { PerKeyThrottle } from './per-key-throttle.js';
import type { Registry } from './registry.js';

export interface LatestValue {
  value: number;
  unit: string;
  /** When the sample carrying it was taken, milliseconds since the epoch. */
  ts: number;
}

/** The latest value of each quantity a sensor reported (a quantity missing from the last sample keeps its earlier value). */
export interface SensorValues {
  sensorId: string;
  values: Record<string, LatestValue>;
}

export interface SensorMetricsDeps {
  registry: Registry;
  /** The running sources (the set changes when the config does). */
  sources: () => readonly Source[];
  clock: Clock;
  /** At most one change notification per sensor per this long (default 1 s). */
  changeIntervalMs?: number;
}

/**
 * Latest value per sensor and quantity, kept from every accepted sample, served as Prometheus
 * gauges (with online flag, last-seen time and rate), to the API, and as throttled per-sensor
 * change notifications for the live view.
 */
export class SensorMetrics {
  private readonly latest = new Map<string, Record<string, LatestValue>>();
  private readonly listeners = new Set<(values: SensorValues) => void>();
  private readonly changes: PerKeyThrottle<string>;

  constructor(deps: SensorMetricsDeps) {
    const latest = this.latest;
    this.changes = new PerKeyThrottle({
      clock: deps.clock,
      intervalMs: deps.changeIntervalMs ?? 1000,
      emit: (sensorId) => {
        const values = this.valuesOf(sensorId);
        if (values) for (const listener of this.listeners) listener(values);
      },
    });
    new Gauge({
      name: 'fieldgate_sensor_value',
      help: 'Latest accepted value per sensor and quantity',
      labelNames: ['sensor', 'quantity', 'unit'],
      registers: [deps.registry],
      collect() {
        this.reset();
        for (const [sensor, values] of latest) {
          for (const [quantity, latestValue] of Object.entries(values)) {
            this.set({ sensor, quantity, unit: latestValue.unit }, latestValue.value);
          }
        }
      },
    });
    const statusGauge = (name: string, help: string, read: (status: SensorStatus) => number | undefined) =>
      new Gauge({
        name,
        help,
        labelNames: ['sensor', 'source'],
        registers: [deps.registry],
        collect() {
          this.reset();
          for (const status of deps.sources().flatMap((source) => source.sensors())) {
            const value = read(status);
            if (value !== undefined) this.set({ sensor: status.sensorId, source: status.source }, value);
          }
        },
      });
    statusGauge('fieldgate_sensor_online', '1 when the sensor is online', (s) => (s.online ? 1 : 0));
    statusGauge('fieldgate_sensor_last_seen_timestamp_seconds', 'When the sensor last produced a sample (Unix seconds)', (s) =>
      s.lastSeen === null ? undefined : s.lastSeen / 1000,
    );
    statusGauge('fieldgate_sensor_samples_per_second', 'Samples per second over the recent window', (s) => s.rate);
  }

  observe(sample: Sample): void {
    let values = this.latest.get(sample.sensorId);
    if (!values) this.latest.set(sample.sensorId, (values = {}));
    for (const [quantity, measurement] of Object.entries(sample.values)) {
      values[quantity] = { value: measurement.value, unit: measurement.unit, ts: sample.ts };
    }
    if (this.listeners.size > 0) this.changes.touch(sample.sensorId);
  }

  values(sensorId?: string): SensorValues[] {
    const ids = sensorId === undefined ? [...this.latest.keys()].sort() : [sensorId];
    return ids.flatMap((id) => this.valuesOf(id) ?? []);
  }

  /** Throttled per sensor; returns the function that ends the subscription. */
  onChange(listener: (values: SensorValues) => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  /** A removed sensor's values go (from the API and the gauges). */
  forget(sensorId: string): void {
    this.latest.delete(sensorId);
    this.changes.forget(sensorId);
  }

  private valuesOf(sensorId: string): SensorValues | undefined {
    const values = this.latest.get(sensorId);
    return values && { sensorId, values: { ...values } };
  }
}
