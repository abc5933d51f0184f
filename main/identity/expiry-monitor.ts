import type { Gauge } from 'prom-client';
import type { Logger } from '../log/logger.js';
import type { Registry } from '../metrics/registry.js';
import type { Clock } from '../shared/clock.js';
import type { Component } from '../shared/lifecycle.js';
import type { IdentityAlert, IdentityAlertSink } from './alerts.js';
import { IdentityError } from './errors.js';
import { daysLeft, expiryThresholdReached } from './lifetime.js';
import { daysLeftGauge } from './metrics.js';
import type { IdentityStore } from './store.js';

export interface ExpiryMonitorDeps {
  store: IdentityStore;
  /** Days-left thresholds, e.g. [30, 7]. */
  alertDaysLeft: readonly number[];
  checkIntervalMs: number;
  metrics: Registry;
  log: Logger;
  clock: Clock;
  onAlert?: IdentityAlertSink;
}

/**
 * Checks the identity at start-up (permissions, key match, chain, clock, expiry) so a broken one
 * fails with its own diagnosis instead of a TLS error (a clock before the certificate's validity
 * only raises clock-wrong), then keeps `fieldgate_identity_cert_days_left` current and raises an
 * alert once per certificate for each threshold it reaches.
 */
export class ExpiryMonitor implements Component {
  readonly name = 'identity';
  private timer: NodeJS.Timeout | undefined;
  private gauge: Gauge | undefined;
  /** `serial/threshold` pairs already alerted, so each alert fires once per certificate. */
  private readonly alerted = new Set<string>();

  constructor(private readonly deps: ExpiryMonitorDeps) {}

  async start(signal: AbortSignal): Promise<void> {
    this.gauge = daysLeftGauge(this.deps.metrics);
    this.deps.store.recover();
    try {
      this.deps.store.load(this.deps.clock.now());
    } catch (error) {
      this.onStartFailure(error);
      // A box without a battery-backed clock often boots before NTP has set it: keep checking, the
      // uplink connects once the clock is right (it reads the identity at every connect).
      if (!(error instanceof IdentityError && error.problem === 'not-yet-valid')) throw error;
    }
    this.check();
    if (!signal.aborted) {
      this.timer = setInterval(() => this.check(), this.deps.checkIntervalMs);
      this.timer.unref();
    }
  }

  async stop(): Promise<void> {
    clearInterval(this.timer);
    this.timer = undefined;
  }

  /** Updates the gauge and raises the expiry alert for the smallest threshold reached. */
  check(): void {
    let info;
    try {
      info = this.deps.store.describe();
    } catch (error) {
      this.deps.log.error({ err: error }, 'cannot read the device certificate');
      return;
    }
    const now = this.deps.clock.now();
    const days = daysLeft(info, now);
    this.gauge?.set(days);
    if (days < 0) {
      this.raiseOnce(`${info.serial}/expired`, {
        kind: 'cert-expired',
        severity: 'critical',
        message: `device certificate (serial ${info.serial}) expired on ${info.notAfter.toISOString()}`,
      });
      return;
    }
    const threshold = expiryThresholdReached(days, this.deps.alertDaysLeft);
    if (threshold === undefined) return;
    this.raiseOnce(`${info.serial}/${threshold}`, {
      kind: 'cert-expiring',
      severity: threshold <= Math.min(...this.deps.alertDaysLeft) ? 'critical' : 'warning',
      message: `device certificate (serial ${info.serial}) expires in ${days} day${days === 1 ? '' : 's'} (${info.notAfter.toISOString()}); rotation should have replaced it by now`,
    });
  }

  private onStartFailure(error: unknown): void {
    if (!(error instanceof IdentityError)) return;
    const now = this.deps.clock.now();
    if (error.problem === 'not-yet-valid') {
      this.emit({ kind: 'clock-wrong', severity: 'critical', message: error.message, ts: now });
    } else if (error.problem === 'expired') {
      this.emit({ kind: 'cert-expired', severity: 'critical', message: error.message, ts: now });
    }
    try {
      this.gauge?.set(daysLeft(this.deps.store.describe(), now));
    } catch {
      // No readable certificate: the gauge stays absent.
    }
  }

  private raiseOnce(key: string, alert: Omit<IdentityAlert, 'ts'>): void {
    if (this.alerted.has(key)) return;
    this.alerted.add(key);
    this.emit({ ...alert, ts: this.deps.clock.now() });
  }

  private emit(alert: IdentityAlert): void {
    const level = alert.severity === 'critical' ? 'error' : alert.severity === 'warning' ? 'warn' : 'info';
    this.deps.log[level]({ alert: alert.kind }, alert.message);
    this.deps.onAlert?.(alert);
  }
}
