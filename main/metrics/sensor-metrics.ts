import { Gauge } from 'prom-client';
import type { Sample } from '../shared/reading.js';
import type { SensorStatus, Source } from '../shared/source.js';
import type { Registry } from './registry.js';

/**
 * Per-sensor gauges: latest value per quantity, online flag, last-seen time and rate. Samples are
 * only remembered on the hot path; the gauges are filled when Prometheus scrapes.
 */
export class SensorMetrics {
  private readonly latest = new Map<string, Sample>();

  constructor(deps: { registry: Registry; sources: readonly Source[] }) {
    const latest = this.latest;
    new Gauge({
      name: 'fieldgate_sensor_value',
      help: 'Latest accepted value per sensor and quantity',
      labelNames: ['sensor', 'quantity', 'unit'],
      registers: [deps.registry],
      collect() {
        this.reset();
        for (const sample of latest.values()) {
          for (const [quantity, measurement] of Object.entries(sample.values)) {
            this.set({ sensor: sample.sensorId, quantity, unit: measurement.unit }, measurement.value);
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
          for (const status of deps.sources.flatMap((source) => source.sensors())) {
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
    this.latest.set(sample.sensorId, sample);
  }
}
