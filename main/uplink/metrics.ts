import { Counter, Gauge, Histogram } from 'prom-client';
import type { Registry } from '../metrics/registry.js';

export interface UplinkMetrics {
  errors: Counter<'kind'>;
  connected: Gauge;
  readingsSent: Counter;
  messages: Counter<'type'>;
  connects: Counter;
  /** Seconds from publish to PUBACK, every QoS 1 message. */
  pubackSeconds: Histogram;
}

/** Registers the uplink's metrics; the in-flight gauge reads `pendingPublishes` at scrape time. */
export function createUplinkMetrics(registry: Registry, pendingPublishes: () => number): UplinkMetrics {
  const registers = [registry];
  const metrics: UplinkMetrics = {
    errors: new Counter({ name: 'fieldgate_uplink_errors_total', help: 'Uplink connect and publish failures by kind', labelNames: ['kind'], registers }),
    connected: new Gauge({ name: 'fieldgate_uplink_connected', help: '1 while connected to the broker', registers }),
    readingsSent: new Counter({ name: 'fieldgate_uplink_readings_sent_total', help: 'Readings acknowledged by the broker (PUBACK)', registers }),
    messages: new Counter({ name: 'fieldgate_uplink_messages_total', help: 'Messages acknowledged by the broker, by type', labelNames: ['type'], registers }),
    connects: new Counter({ name: 'fieldgate_uplink_connects_total', help: 'Successful connections to the broker', registers }),
    pubackSeconds: new Histogram({
      name: 'fieldgate_uplink_puback_seconds',
      help: 'Round trip from publish to PUBACK',
      buckets: [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10],
      registers,
    }),
  };
  new Gauge({
    name: 'fieldgate_uplink_inflight_messages',
    help: 'Messages published and not yet acknowledged',
    registers,
    collect() {
      this.set(pendingPublishes());
    },
  });
  return metrics;
}
