import { Counter, Gauge, type Registry } from 'prom-client';

export interface SerialMetrics {
  /** Every line a line-oriented port framed, accepted, ignored or rejected (the reject share's denominator). */
  lines: Counter<'port'>;
  rejects: Counter<'port' | 'reason'>;
  portOpen: Gauge<'port'>;
  reopens: Counter<'port'>;
  modbusRequests: Counter<'port' | 'slave' | 'result'>;
}

/** The serial metrics in `registry`, created on first use (one registry may outlive a source). */
export function serialMetrics(registry: Registry): SerialMetrics {
  return {
    lines: counter(registry, 'fieldgate_serial_lines_total', 'Lines read from a line-oriented serial port (jsonl, csv, kv), accepted or not', ['port']),
    rejects: counter(registry, 'fieldgate_serial_rejects_total', 'Serial lines or frames dropped, by reason', ['port', 'reason']),
    portOpen: gauge(registry, 'fieldgate_serial_port_open', '1 while the serial port is open, 0 while it is missing or reopening', ['port']),
    reopens: counter(registry, 'fieldgate_serial_port_reopens_total', 'Times a serial port was lost and reopening started', ['port']),
    modbusRequests: counter(registry, 'fieldgate_serial_modbus_requests_total', 'Modbus RTU read requests, by result', ['port', 'slave', 'result']),
  };
}

/** The counter `name` in `registry`, created on first use. */
export function counter<L extends string>(registry: Registry, name: string, help: string, labelNames: L[]): Counter<L> {
  return (registry.getSingleMetric(name) as Counter<L> | undefined) ?? new Counter({ name, help, labelNames, registers: [registry] });
}

/** The gauge `name` in `registry`, created on first use. */
export function gauge<L extends string>(registry: Registry, name: string, help: string, labelNames: L[]): Gauge<L> {
  return (registry.getSingleMetric(name) as Gauge<L> | undefined) ?? new Gauge({ name, help, labelNames, registers: [registry] });
}
