import type { Logger } from '../log/logger.js';
import { apiEventSchema, type ApiEvent } from '../shared/api.js';
import type { EventPublisher } from './backends.js';

export const VALUES_EVENT_INTERVAL_MS = 1000;

type ValuesEvent = Extract<ApiEvent, { type: 'values' }>;

/**
 * Fans events out to every WebSocket and the Electron window. `values` events are throttled per
 * sensor: at most one per interval, the latest one wins (a trailing send, so the last value shows).
 */
export class EventHub implements EventPublisher {
  private readonly listeners = new Set<(event: ApiEvent) => void>();
  private readonly lastValuesAt = new Map<string, number>();
  private readonly pendingValues = new Map<string, ValuesEvent>();
  private readonly timers = new Map<string, NodeJS.Timeout>();

  constructor(private readonly deps: { log: Logger; now: () => number; valuesIntervalMs?: number }) {}

  subscribe(listener: (event: ApiEvent) => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  get watched(): boolean {
    return this.listeners.size > 0;
  }

  publish(event: ApiEvent): void {
    const checked = apiEventSchema.safeParse(event);
    if (!checked.success) {
      this.deps.log.error({ type: event.type, issue: checked.error.issues[0] }, 'dropped an event that does not match the contract');
      return;
    }
    if (event.type === 'values') this.throttleValues(event);
    else this.send(event);
  }

  close(): void {
    for (const timer of this.timers.values()) clearTimeout(timer);
    this.timers.clear();
    this.pendingValues.clear();
    this.listeners.clear();
  }

  private throttleValues(event: ValuesEvent): void {
    const sensor = event.sensor.sensorId;
    const interval = this.deps.valuesIntervalMs ?? VALUES_EVENT_INTERVAL_MS;
    const wait = (this.lastValuesAt.get(sensor) ?? -Infinity) + interval - this.deps.now();
    if (wait <= 0 && !this.timers.has(sensor)) {
      this.lastValuesAt.set(sensor, this.deps.now());
      this.send(event);
      return;
    }
    this.pendingValues.set(sensor, event);
    if (this.timers.has(sensor)) return;
    const timer = setTimeout(() => {
      this.timers.delete(sensor);
      const pending = this.pendingValues.get(sensor);
      this.pendingValues.delete(sensor);
      if (!pending) return;
      this.lastValuesAt.set(sensor, this.deps.now());
      this.send(pending);
    }, Math.max(0, wait));
    timer.unref();
    this.timers.set(sensor, timer);
  }

  private send(event: ApiEvent): void {
    for (const listener of this.listeners) {
      try {
        listener(event);
      } catch (error) {
        this.deps.log.warn({ err: error, type: event.type }, 'an event listener failed');
      }
    }
  }
}
