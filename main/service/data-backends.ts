import type { EventPublisher, HistoryBackend, LogsBackend, ValuesBackend } from '../api/backends.js';
import type { LogEntry, LogRing } from '../log/log-ring.js';
import type { ThroughputHistory } from '../metrics/history.js';
import type { SensorMetrics, SensorValues } from '../metrics/sensor-metrics.js';
import type { LogEntry as LogEntryView, SensorValues as SensorValuesView } from '../shared/api.js';

const iso = (ms: number) => new Date(ms).toISOString();

export function valuesView(sensor: SensorValues): SensorValuesView {
  return {
    sensorId: sensor.sensorId,
    values: Object.entries(sensor.values).map(([quantity, latest]) => ({ quantity, value: latest.value, unit: latest.unit, at: iso(latest.ts) })),
  };
}

export function logEntryView(entry: LogEntry): LogEntryView {
  return { id: entry.seq, time: iso(entry.ts), level: entry.level, namespace: entry.ns ?? '', message: entry.msg, fields: entry.fields };
}

/** The API's read-only live views (values, history, logs) over the in-memory services. */
export function createDataBackends(deps: { values: SensorMetrics; history: ThroughputHistory; logs: LogRing }): {
  values: ValuesBackend;
  history: HistoryBackend;
  logs: LogsBackend;
} {
  return {
    values: { values: (input) => ({ sensors: deps.values.values(input.sensor).map(valuesView) }) },
    history: {
      history: (input) => {
        const series = deps.history.query({ ...(input.sensor !== undefined && { sensor: input.sensor }), windowMs: input.windowSeconds * 1000 });
        return {
          stepSeconds: Math.round(series.intervalMs / 1000),
          points: series.points.map((point) => ({ at: iso(point.ts), rate: point.rate, bufferDepth: point.depth })),
        };
      },
    },
    logs: {
      query: (input) => ({
        entries: deps.logs
          .query({
            ...(input.level !== undefined && { level: input.level }),
            ...(input.namespace !== undefined && { ns: input.namespace }),
            ...(input.text !== undefined && { text: input.text }),
            ...(input.since !== undefined && { since: Date.parse(input.since) }),
            ...(input.until !== undefined && { until: Date.parse(input.until) }),
            limit: input.limit,
          })
          .map(logEntryView),
      }),
    },
  };
}

/** Live values (throttled per sensor by SensorMetrics) and log lines as API events; returns the function that ends both. */
export function publishDataEvents(deps: { values: SensorMetrics; logs: LogRing; events: EventPublisher }): () => void {
  const offValues = deps.values.onChange((sensor) => deps.events.publish({ type: 'values', sensor: valuesView(sensor) }));
  const offLogs = deps.logs.tail((entry) => deps.events.publish({ type: 'log', entry: logEntryView(entry) }));
  return () => {
    offValues();
    offLogs();
  };
}
