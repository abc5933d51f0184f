import { Gauge } from 'prom-client';
import type { Registry } from '../metrics/registry.js';
import type { Component } from '../shared/lifecycle.js';

const TICK_MS = 500;
/** A lag above this (or no tick for this long) means the event loop does not respond. */
const UNRESPONSIVE_MS = 2_000;

export interface HealthReport {
  ok: boolean;
  checks: Record<string, { ok: boolean; detail: string }>;
}

export interface HealthDeps {
  metrics: Registry;
  /** Component name → state, from the supervisor. */
  components: () => { name: string; state: string }[];
  /** Names of the parts the config asks for (`buffer`, `sim:t1`, `serial:p1`, `ble`, `api`). */
  expected: () => string[];
  now: () => number;
}

/**
 * `/healthz` and `/readyz`: liveness is a timer that measures how late it fires (the event-loop
 * lag, also exported); readiness is every configured part running (buffer open, sources started,
 * API listening).
 */
export class HealthProbe implements Component {
  readonly name = 'health';
  private timer: NodeJS.Timeout | undefined;
  private lastTickAt = 0;
  private lagMs = 0;

  constructor(private readonly deps: HealthDeps) {
    const lagSeconds = () => this.lagMs / 1000;
    new Gauge({
      name: 'fieldgate_event_loop_lag_seconds',
      help: 'How late the last 500 ms timer fired',
      registers: [deps.metrics],
      collect() {
        this.set(lagSeconds());
      },
    });
  }

  async start(): Promise<void> {
    this.lastTickAt = this.deps.now();
    const tick = () => {
      const now = this.deps.now();
      this.lagMs = Math.max(0, now - this.lastTickAt - TICK_MS);
      this.lastTickAt = now;
      this.timer = setTimeout(tick, TICK_MS);
      this.timer.unref();
    };
    this.timer = setTimeout(tick, TICK_MS);
    this.timer.unref();
  }

  async stop(): Promise<void> {
    clearTimeout(this.timer);
    this.timer = undefined;
  }

  live(): HealthReport {
    const sinceTick = this.deps.now() - this.lastTickAt;
    const lag = Math.max(this.lagMs, sinceTick - TICK_MS);
    const ok = this.timer !== undefined && lag < UNRESPONSIVE_MS;
    return { ok, checks: { 'event-loop': { ok, detail: this.timer === undefined ? 'not started' : `lag ${Math.round(lag)} ms` } } };
  }

  ready(): HealthReport {
    const states = new Map(this.deps.components().map((c) => [c.name, c.state]));
    const checks: HealthReport['checks'] = { ...this.live().checks };
    for (const name of this.deps.expected()) {
      const state = states.get(name) ?? 'absent';
      checks[name] = { ok: state === 'running', detail: state };
    }
    return { ok: Object.values(checks).every((check) => check.ok), checks };
  }
}
