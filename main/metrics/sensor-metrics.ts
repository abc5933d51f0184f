import { Gauge } from 'prom-client';
import type { Sample } from '../shared/reading.js';
import type { Source } from '../shared/source.js';
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
    const statuses = () => deps.sources.flatMap((source) => source.sensors());
    new Gauge({
      name: 'fieldgate_sensor_online',
      help: '1 when the sensor is online',
      labelNames: ['sensor', 'source'],
      registers: [deps.registry],
      collect() {
        this.reset();
        for (const s of statuses()) this.set({ sensor: s.sensorId, source: s.source }, s.online ? 1 : 0);
      },
    });
    new Gauge({
      name: 'fieldgate_sensor_last_seen_timestamp_seconds',
      help: 'When the sensor last produced a sample (Unix seconds)',
      labelNames: ['sensor', 'source'],
      registers: [deps.registry],
      collect() {
        this.reset();
        for (const s of statuses()) if (s.lastSeen !== null) this.set({ sensor: s.sensorId, source: s.source }, s.lastSeen / 1000);
      },
    });
    new Gauge({
      name: 'fieldgate_sensor_samples_per_second',
      help: 'Samples per second over the recent window',
      labelNames: ['sensor', 'source'],
      registers: [deps.registry],
      collect() {
        this.reset();
        for (const s of statuses()) this.set({ sensor: s.sensorId, source: s.source }, s.rate);
      },
    });
  }

  observe(sample: Sample): void {
    this.latest.set(sample.sensorId, sample);
  }
}
