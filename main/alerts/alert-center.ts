import { Gauge } from 'prom-client';
import type { Logger } from '../log/logger.js';
import type { Registry } from '../metrics/registry.js';
import { alertKey, type Alert, type AlertCondition, type AlertEventName, type AlertSeverity } from '../shared/alert.js';
import type { Alert as AlertView } from '../shared/api.js';
import type { Clock } from '../shared/clock.js';
import type { Component } from '../shared/lifecycle.js';
import { legacyOutcome } from './legacy.js';
import { AlertStore, type OutboxEntry, type StoredAlert } from './store.js';

export interface AlertCenterDeps {
  /** `<gateway.dataDir>/alerts.db`. */
  file: string;
  gatewayId: string;
  /** Cleared alerts kept for `recent` (config `alerts.keepRecent`). */
  keepRecent: () => number;
  log: Logger;
  clock: Clock;
  metrics: Registry;
}

export interface AlertChange {
  event: AlertEventName;
  seq: number;
  alert: AlertView;
}

/** What the uplink sends on `<prefix>/<gatewayId>/alerts`: entries leave only after their PUBACK. */
export interface AlertOutbox {
  pending(max: number): OutboxEntry[];
  delivered(id: number): void;
  /** Active alerts by severity, for the retained status message. */
  counts(): Record<AlertSeverity, number>;
}

const view = (alert: StoredAlert): AlertView => ({
  key: alert.key,
  kind: alert.kind,
  subject: alert.subject,
  severity: alert.severity,
  message: alert.message,
  ...(alert.hint !== null && { hint: alert.hint }),
  raisedAt: new Date(alert.raisedAt).toISOString(),
  clearedAt: alert.clearedAt === null ? null : new Date(alert.clearedAt).toISOString(),
});

/**
 * The gateway's one alerts component. An alert is a condition with a stable key (`<kind>:<subject>`):
 * raising it while active updates it, clearing it ends it. Every raise, clear and notice is
 * persisted with the message announcing it (a per-key seq), so a restart neither loses nor repeats
 * one, and the cloud can drop duplicates by key and seq.
 */
export class AlertCenter implements Component, AlertOutbox {
  readonly name = 'alerts';
  private readonly store: AlertStore;
  private readonly listeners = new Set<(change: AlertChange) => void>();
  /** Reports made before start (the store is opened by start). */
  private early: (() => void)[] = [];
  private opened = false;

  constructor(private readonly deps: AlertCenterDeps) {
    this.store = new AlertStore(deps.file);
    const activeAlerts = () => (this.opened ? this.store.active() : []);
    new Gauge({
      name: 'fieldgate_alerts_active',
      help: 'Active alerts by kind and severity',
      labelNames: ['kind', 'severity'],
      registers: [deps.metrics],
      collect() {
        this.reset();
        for (const alert of activeAlerts()) this.inc({ kind: alert.kind, severity: alert.severity });
      },
    });
  }

  async start(): Promise<void> {
    this.store.open();
    this.opened = true;
    const early = this.early;
    this.early = [];
    for (const work of early) work();
  }

  async stop(): Promise<void> {
    this.opened = false;
    this.store.close();
  }

  /** Called for every raise, clear and notice (the API's `alert` event, waking the uplink). */
  onChange(listener: (change: AlertChange) => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  raise(condition: AlertCondition): void {
    this.whenOpen(() => {
      const key = alertKey(condition.kind, condition.subject);
      const hint = condition.hint ?? null;
      const current = this.store.active().find((alert) => alert.key === key);
      if (!current) {
        const alert = { key, type: condition.type, kind: condition.kind, subject: condition.subject, severity: condition.severity, message: condition.message, hint, raisedAt: this.deps.clock.now(), clearedAt: null };
        this.record('raise', () => ({ ...alert, id: this.store.insert(alert) }));
        return;
      }
      if (current.severity === condition.severity && current.message === condition.message && current.hint === hint) return;
      const updated = { ...current, severity: condition.severity, message: condition.message, hint };
      // Only a new severity is news for the cloud; a new wording is kept locally.
      if (current.severity !== condition.severity) this.record('raise', () => (this.store.update(current.id, updated), updated));
      else {
        this.store.update(current.id, updated);
        this.emit({ event: 'raise', seq: 0, alert: view(updated) });
      }
    });
  }

  clear(key: string): void {
    this.whenOpen(() => {
      const current = this.store.active().find((alert) => alert.key === key);
      if (!current) return;
      const at = this.deps.clock.now();
      this.record('clear', () => {
        this.store.markCleared(current.id, at);
        return { ...current, clearedAt: at };
      });
    });
  }

  /** An event, not a condition (readings set aside, a quarantined file): raised and cleared at once. */
  notice(condition: AlertCondition): void {
    this.whenOpen(() => {
      const now = this.deps.clock.now();
      const alert = { key: alertKey(condition.kind, condition.subject), type: condition.type, kind: condition.kind, subject: condition.subject, severity: condition.severity, message: condition.message, hint: condition.hint ?? null, raisedAt: now, clearedAt: now };
      this.record('notice', () => ({ ...alert, id: this.store.insert(alert) }));
    });
  }

  /** A rule's view of its `kinds` now: these conditions are raised, every other active alert of these kinds is cleared. */
  reconcile(kinds: readonly string[], conditions: readonly AlertCondition[]): void {
    this.whenOpen(() => {
      const present = new Set(conditions.map((c) => alertKey(c.kind, c.subject)));
      for (const condition of conditions) this.raise(condition);
      for (const alert of this.store.active()) if (kinds.includes(alert.kind) && !present.has(alert.key)) this.clear(alert.key);
    });
  }

  /** A part's alert (buffer, identity, BLE, uplink): a raise, a clear of what it ends, or a notice. */
  report(alert: Alert): void {
    const outcome = legacyOutcome(alert);
    for (const key of outcome.clears) this.clear(key);
    if (!outcome.condition) return;
    if (outcome.notice) this.notice(outcome.condition);
    else this.raise(outcome.condition);
  }

  isActive(key: string): boolean {
    return this.opened && this.store.active().some((alert) => alert.key === key);
  }

  active(): AlertView[] {
    return this.opened ? this.store.active().map(view) : [];
  }

  recent(): AlertView[] {
    return this.opened ? this.store.recent(this.deps.keepRecent()).map(view) : [];
  }

  counts(): Record<AlertSeverity, number> {
    const counts = { info: 0, warning: 0, critical: 0 };
    if (this.opened) for (const alert of this.store.active()) counts[alert.severity]++;
    return counts;
  }

  pending(max: number): OutboxEntry[] {
    return this.opened ? this.store.outbox(max) : [];
  }

  delivered(id: number): void {
    if (this.opened) this.store.delivered(id);
  }

  private whenOpen(work: () => void): void {
    if (this.opened) work();
    else this.early.push(work);
  }

  /** Applies `change` and writes its upstream message in one transaction, then tells the listeners. */
  private record(event: AlertEventName, change: () => StoredAlert): void {
    const { alert, seq } = this.store.transaction(() => {
      const alert = change();
      const seq = this.store.nextSeq(alert.key);
      this.store.enqueue(JSON.stringify(this.wire(event, seq, alert)));
      if (alert.clearedAt !== null) this.store.pruneCleared(this.deps.keepRecent());
      return { alert, seq };
    });
    const level = event === 'clear' ? 'info' : alert.severity === 'critical' ? 'error' : alert.severity === 'warning' ? 'warn' : 'info';
    this.deps.log[level]({ alert: alert.key, event, seq }, event === 'clear' ? `alert cleared: ${alert.key}` : alert.message);
    this.emit({ event, seq, alert: view(alert) });
  }

  private wire(event: AlertEventName, seq: number, alert: StoredAlert): Record<string, unknown> {
    return {
      event,
      key: alert.key,
      seq,
      type: alert.type,
      gateway: this.deps.gatewayId,
      kind: alert.kind,
      subject: alert.subject,
      severity: alert.severity,
      message: alert.message,
      ...(alert.hint !== null && { hint: alert.hint }),
      raisedAt: new Date(alert.raisedAt).toISOString(),
      clearedAt: alert.clearedAt === null ? null : new Date(alert.clearedAt).toISOString(),
      ts: new Date(this.deps.clock.now()).toISOString(),
    };
  }

  private emit(change: AlertChange): void {
    for (const listener of this.listeners) {
      try {
        listener(change);
      } catch (error) {
        this.deps.log.error({ err: error }, 'alert listener failed');
      }
    }
  }
}
