import type { Clock } from '../shared/clock.js';
import type { Component } from '../shared/lifecycle.js';

export interface HistoryPoint {
  /** End of the interval, milliseconds since the epoch. */
  ts: number;
  /** Readings accepted per second over the interval (of one sensor, or all). */
  rate: number;
  /** Buffer depth (readings not yet acknowledged by the cloud) at `ts`. */
  depth: number;
}

export interface HistoryQuery {
  /** One sensor's rate; all sensors' total when absent. */
  sensor?: string;
  /** How far back, at most the kept window. */
  windowMs?: number;
}

export interface HistorySeries {
  intervalMs: number;
  points: HistoryPoint[];
}

export interface HistoryDeps {
  clock: Clock;
  /** The buffer's current depth. */
  depth: () => number;
  intervalMs?: number;
  windowMs?: number;
}

/**
 * Throughput (accepted readings per second, per sensor and in total) and buffer depth over the
 * last hour, one point per interval, kept in memory for the UI's sparklines. `count` is on the hot
 * path and only increments; `sample` closes an interval (the timer calls it, tests call it).
 */
export class ThroughputHistory implements Component {
  readonly name = 'history';
  readonly intervalMs: number;
  private readonly maxPoints: number;
  private timer: NodeJS.Timeout | undefined;
  private intervalStart: number | undefined;
  private total = 0;
  private readonly perSensor = new Map<string, number>();
  private readonly totals: HistoryPoint[] = [];
  private readonly sensorRates = new Map<string, { ts: number; rate: number }[]>();

  constructor(private readonly deps: HistoryDeps) {
    this.intervalMs = deps.intervalMs ?? 10_000;
    this.maxPoints = Math.ceil((deps.windowMs ?? 3_600_000) / this.intervalMs);
  }

  async start(): Promise<void> {
    this.intervalStart = this.deps.clock.now();
    this.timer = setInterval(() => this.sample(), this.intervalMs);
    this.timer.unref();
  }

  async stop(): Promise<void> {
    clearInterval(this.timer);
    this.timer = undefined;
  }

  count(sensorId: string): void {
    this.total++;
    this.perSensor.set(sensorId, (this.perSensor.get(sensorId) ?? 0) + 1);
  }

  sample(): void {
    const now = this.deps.clock.now();
    const seconds = Math.max(now - (this.intervalStart ?? now - this.intervalMs), 1) / 1000;
    this.intervalStart = now;
    keep(this.totals, { ts: now, rate: this.total / seconds, depth: this.deps.depth() }, this.maxPoints);
    for (const sensor of new Set([...this.sensorRates.keys(), ...this.perSensor.keys()])) {
      const points = this.sensorRates.get(sensor) ?? [];
      keep(points, { ts: now, rate: (this.perSensor.get(sensor) ?? 0) / seconds }, this.maxPoints);
      if (points.every((p) => p.rate === 0)) this.sensorRates.delete(sensor);
      else this.sensorRates.set(sensor, points);
    }
    this.total = 0;
    this.perSensor.clear();
  }

  query(query: HistoryQuery = {}): HistorySeries {
    const from = this.deps.clock.now() - (query.windowMs ?? this.maxPoints * this.intervalMs);
    const totals = this.totals.filter((p) => p.ts > from);
    if (query.sensor === undefined) return { intervalMs: this.intervalMs, points: totals };
    const rates = new Map((this.sensorRates.get(query.sensor) ?? []).map((p) => [p.ts, p.rate]));
    return { intervalMs: this.intervalMs, points: totals.map((p) => ({ ts: p.ts, rate: rates.get(p.ts) ?? 0, depth: p.depth })) };
  }
}

function keep<T>(points: T[], point: T, max: number): void {
  points.push(point);
  if (points.length > max) points.shift();
}
