import type { Counter, Gauge, Registry } from 'prom-client';
import { counter, gauge } from '../serial/metrics.js';

export interface ModbusTcpMetrics {
  rejects: Counter<'server' | 'reason'>;
  requests: Counter<'server' | 'unit' | 'result'>;
  connected: Gauge<'server'>;
  reconnects: Counter<'server'>;
}

/** The Modbus TCP metrics in `registry`, created on first use (one registry may outlive a source). */
export function modbusTcpMetrics(registry: Registry): ModbusTcpMetrics {
  return {
    rejects: counter(registry, 'fieldgate_modbus_tcp_rejects_total', 'Modbus TCP responses or poll cycles dropped, by reason', ['server', 'reason']),
    requests: counter(registry, 'fieldgate_modbus_tcp_requests_total', 'Modbus TCP read requests, by result', ['server', 'unit', 'result']),
    connected: gauge(registry, 'fieldgate_modbus_tcp_connected', '1 while the TCP connection to the Modbus server is up', ['server']),
    reconnects: counter(registry, 'fieldgate_modbus_tcp_reconnects_total', 'Connection attempts to the Modbus server after the first', ['server']),
  };
}
