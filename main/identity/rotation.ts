import type { Counter, Gauge } from 'prom-client';
import type { Logger } from '../log/logger.js';
import type { Registry } from '../metrics/registry.js';
import type { Clock } from '../shared/clock.js';
import type { IdentityConfig } from '../shared/config/identity.js';
import type { Component } from '../shared/lifecycle.js';
import type { IdentityAlertSink } from './alerts.js';
import type { IdentityCredentials } from './credentials.js';
import { rotationDueAt } from './lifetime.js';
import { rotationPendingGauge, rotationsCounter } from './metrics.js';
import { parseIssuedMessage, type RotationStatus } from './rotation-messages.js';
import type { IdentityStore, LoadedIdentity, RotationRequest } from './store.js';

/** Topic suffixes under `<prefix>/<gatewayId>/`. */
export const ROTATION_TOPICS = { csr: 'cert/csr', issued: 'cert/issued', status: 'cert/status' } as const;

/** What rotation needs from the uplink: control topics and a reconnect that reports the outcome. */
export interface RotationChannel {
  publishControl(topicSuffix: string, payload: string): Promise<void>;
  /** Subscribes now and after every reconnect; returns an unsubscribe function. */
  onControl(topicSuffix: string, handler: (payload: Buffer) => void): () => void;
  /** Reconnects with freshly provided credentials; rejects when the broker does not accept them. */
  reconnect(): Promise<void>;
}

export interface CertificateRotationDeps {
  store: IdentityStore;
  credentials: IdentityCredentials;
  channel: RotationChannel;
  gatewayId: string;
  config: IdentityConfig['rotation'];
  checkIntervalMs: number;
  metrics: Registry;
  log: Logger;
  clock: Clock;
  onAlert?: IdentityAlertSink;
  /** Called after a new identity was promoted, e.g. to refresh the days-left gauge. */
  onRotated?: () => void;
}

/** While the uplink is offline, sending is retried after 1 s, doubling up to a minute. */
const FIRST_RETRY_MS = 1_000;
const MAX_RETRY_MS = 60_000;

/**
 * Rotates the device identity at a share of its lifetime: a new key and CSR go to the cloud on
 * `cert/csr`; the certificate comes back on `cert/issued`, is validated, and tried with a
 * reconnect. The old identity stays on disk until the new one has connected; otherwise it is
 * restored, the uplink reconnects with it, and an alert is raised.
 */
export class CertificateRotation implements Component {
  readonly name = 'identity-rotation';
  private pending: RotationRequest | undefined;
  /** When the pending CSR reached the broker; the response timeout counts from here. */
  private sentAt: number | undefined;
  private checking = false;
  /** Generating the key and sending the CSR. */
  private starting = false;
  /** Validating and trying an issued certificate. */
  private handling = false;
  private nextAttemptAt = 0;
  private checkTimer: NodeJS.Timeout | undefined;
  private retryTimer: NodeJS.Timeout | undefined;
  private retryMs = FIRST_RETRY_MS;
  /** Status messages not yet delivered (the uplink was offline); sent before anything else. */
  private readonly unsentStatus: RotationStatus[] = [];
  private flushing: Promise<boolean> | undefined;
  private unsubscribe: (() => void) | undefined;
  private stopped = false;
  private rotations: Counter<'result'> | undefined;
  private pendingGauge: Gauge | undefined;

  constructor(private readonly deps: CertificateRotationDeps) {}

  async start(signal: AbortSignal): Promise<void> {
    this.rotations = rotationsCounter(this.deps.metrics);
    this.pendingGauge = rotationPendingGauge(this.deps.metrics);
    this.stopped = false;
    this.unsubscribe = this.deps.channel.onControl(ROTATION_TOPICS.issued, (payload) => this.guarded('handling the issued certificate', () => this.onIssued(payload)));
    this.pending = this.deps.store.pendingRotation();
    this.sentAt = undefined;
    this.pendingGauge.set(this.pending ? 1 : 0);
    if (signal.aborted || !this.deps.config.enabled) return;
    this.checkTimer = setInterval(() => this.guarded('the rotation check', () => this.check()), Math.min(this.deps.checkIntervalMs, this.deps.config.responseTimeoutMs));
    this.checkTimer.unref();
    this.guarded('the rotation check', () => this.check());
  }

  async stop(): Promise<void> {
    this.stopped = true;
    clearInterval(this.checkTimer);
    clearTimeout(this.retryTimer);
    this.checkTimer = undefined;
    this.unsubscribe?.();
    this.unsubscribe = undefined;
  }

  /** Starts a rotation now, whatever the lifetime; resolves once the CSR is published. */
  async rotateNow(): Promise<string> {
    if (this.starting || this.handling || this.pending) throw new Error('a certificate rotation is already in progress');
    return (await this.begin()).requestId;
  }

  /** Runs on a timer: (re)sends a pending CSR, times it out, or starts a rotation once due. */
  async check(): Promise<void> {
    if (this.checking || this.starting || this.handling || this.stopped) return;
    this.checking = true;
    try {
      await this.checkNow();
    } finally {
      this.checking = false;
    }
  }

  private async checkNow(): Promise<void> {
    if (this.unsentStatus.length > 0 && !(await this.flushStatus())) return;
    const now = this.deps.clock.now();
    if (this.pending) {
      if (this.sentAt === undefined) {
        await this.publishCsr(this.pending);
      } else if (now - this.sentAt > this.deps.config.responseTimeoutMs) {
        await this.fail('timed-out', `no certificate arrived on ${ROTATION_TOPICS.issued} within ${Math.round(this.deps.config.responseTimeoutMs / 1000)} s of sending the CSR`);
      }
      return;
    }
    if (now < this.nextAttemptAt) return;
    let dueAt: number;
    try {
      dueAt = rotationDueAt(this.deps.store.describe(), this.deps.config.atLifetimeShare);
    } catch {
      return;
    }
    if (now >= dueAt) await this.begin();
  }

  private async begin(): Promise<RotationRequest> {
    this.starting = true;
    try {
      const request = await this.deps.store.beginRotation(this.deps.clock.now());
      this.pending = request;
      this.sentAt = undefined;
      this.pendingGauge?.set(1);
      this.deps.log.info({ requestId: request.requestId }, 'certificate rotation started: new key generated, sending CSR');
      await this.publishCsr(request);
      return request;
    } finally {
      this.starting = false;
    }
  }

  private async publishCsr(request: RotationRequest): Promise<void> {
    let current: { serial: string; notAfter: string } | undefined;
    try {
      const info = this.deps.store.describe();
      current = { serial: info.serial, notAfter: info.notAfter.toISOString() };
    } catch {
      current = undefined;
    }
    const payload = JSON.stringify({ requestId: request.requestId, gatewayId: this.deps.gatewayId, csr: request.csrPem, current });
    try {
      await this.deps.channel.publishControl(ROTATION_TOPICS.csr, payload);
      this.sentAt = this.deps.clock.now();
      this.retryMs = FIRST_RETRY_MS;
    } catch (error) {
      this.deps.log.warn({ err: error, requestId: request.requestId }, 'could not send the CSR yet; will retry');
      this.retryLater();
    }
  }

  private retryLater(): void {
    if (this.stopped) return;
    clearTimeout(this.retryTimer);
    this.retryTimer = setTimeout(() => this.guarded('the rotation check', () => this.check()), this.retryMs);
    this.retryTimer.unref();
    this.retryMs = Math.min(this.retryMs * 2, MAX_RETRY_MS);
  }

  /**
   * Timers and message handlers run rotation work without awaiting it. An error there (ENOSPC
   * writing the next key, an I/O error while promoting) must not become an unhandled rejection,
   * which would exit the process and, on a full disk, loop through restarts: it is logged and
   * alerted, and the next attempt waits `retryIntervalMs`.
   */
  private guarded(what: string, task: () => Promise<void>): void {
    task().catch((error: unknown) => this.failedUnexpectedly(what, error));
  }

  private failedUnexpectedly(what: string, error: unknown): void {
    const reason = error instanceof Error ? error.message : String(error);
    this.nextAttemptAt = this.deps.clock.now() + this.deps.config.retryIntervalMs;
    // What is on disk is the truth now: a crash-safe promotion is finished, a half-written next key is dropped later.
    this.deps.credentials.useCurrent();
    try {
      this.deps.store.recover();
      this.pending = this.deps.store.pendingRotation();
    } catch (recoverError) {
      this.deps.log.error({ err: recoverError }, 'could not tidy the identity folder after a rotation error');
      this.pending = undefined;
    }
    this.sentAt = undefined;
    this.pendingGauge?.set(this.pending ? 1 : 0);
    this.rotations?.inc({ result: 'error' });
    const retry = `next attempt in ${Math.round(this.deps.config.retryIntervalMs / 60_000)} min`;
    this.deps.log.error({ err: error }, `certificate rotation failed during ${what}: ${reason}; ${retry}`);
    this.deps.onAlert?.({ kind: 'rotation-failed', severity: 'warning', message: `certificate rotation failed during ${what}: ${reason}; ${retry}`, ts: this.deps.clock.now() });
  }

  private async onIssued(payload: Buffer): Promise<void> {
    const message = parseIssuedMessage(payload);
    if ('invalid' in message) {
      this.deps.log.warn({ reason: message.invalid }, `ignoring a malformed ${ROTATION_TOPICS.issued} message`);
      return;
    }
    const pending = this.pending;
    if (!pending || message.requestId !== pending.requestId) {
      this.deps.log.warn({ requestId: message.requestId }, `ignoring ${ROTATION_TOPICS.issued} for a request that is not pending`);
      return;
    }
    if (this.handling) return;
    this.handling = true;
    try {
      if ('error' in message) {
        await this.fail('refused', `the cloud refused the CSR: ${message.error}`);
        return;
      }
      let candidate: LoadedIdentity;
      try {
        candidate = this.deps.store.acceptIssued(message.cert, this.deps.clock.now());
      } catch (error) {
        await this.fail('rejected', `the issued certificate was rejected: ${error instanceof Error ? error.message : String(error)}`);
        return;
      }
      await this.tryCandidate(pending, candidate);
    } finally {
      this.handling = false;
    }
  }

  private async tryCandidate(request: RotationRequest, candidate: LoadedIdentity): Promise<void> {
    const serial = candidate.info.serial;
    this.deps.credentials.tryCandidate(candidate);
    try {
      await this.deps.channel.reconnect();
    } catch (error) {
      this.deps.credentials.useCurrent();
      this.deps.store.discardRotation();
      try {
        await this.deps.channel.reconnect();
      } catch (restoreError) {
        this.deps.log.error({ err: restoreError }, 'reconnecting with the previous identity failed too; the uplink keeps retrying');
      }
      await this.fail('rolled-back', `the broker did not accept the new certificate (serial ${serial}): ${error instanceof Error ? error.message : String(error)}; rolled back to the previous identity`);
      return;
    }
    this.deps.store.promote();
    this.deps.credentials.useCurrent();
    this.pending = undefined;
    this.pendingGauge?.set(0);
    this.rotations?.inc({ result: 'installed' });
    this.deps.log.info({ requestId: request.requestId, serial }, 'certificate rotated: connected with the new identity, old key destroyed');
    this.deps.onAlert?.({ kind: 'rotated', severity: 'info', message: `device certificate rotated (new serial ${serial})`, ts: this.deps.clock.now() });
    this.deps.onRotated?.();
    await this.publishStatus({ requestId: request.requestId, state: 'installed', serial });
  }

  private async fail(state: Exclude<RotationStatus['state'], 'installed'>, reason: string): Promise<void> {
    const requestId = this.pending?.requestId ?? '';
    this.deps.store.discardRotation();
    this.pending = undefined;
    this.pendingGauge?.set(0);
    this.nextAttemptAt = this.deps.clock.now() + this.deps.config.retryIntervalMs;
    this.rotations?.inc({ result: state });
    const retry = `next attempt in ${Math.round(this.deps.config.retryIntervalMs / 60_000)} min`;
    this.deps.log.error({ requestId, state }, `certificate rotation failed: ${reason}; ${retry}`);
    this.deps.onAlert?.({ kind: 'rotation-failed', severity: 'warning', message: `certificate rotation failed: ${reason}; ${retry}`, ts: this.deps.clock.now() });
    await this.publishStatus({ requestId, state, reason });
  }

  private async publishStatus(status: RotationStatus): Promise<void> {
    this.unsentStatus.push({ ...status, ts: new Date(this.deps.clock.now()).toISOString() });
    await this.flushStatus();
  }

  /** Sends queued status messages in order; returns false (and retries later) when the uplink is offline. */
  private flushStatus(): Promise<boolean> {
    this.flushing ??= this.sendQueuedStatus().finally(() => (this.flushing = undefined));
    return this.flushing;
  }

  private async sendQueuedStatus(): Promise<boolean> {
    while (this.unsentStatus.length > 0) {
      try {
        await this.deps.channel.publishControl(ROTATION_TOPICS.status, JSON.stringify(this.unsentStatus[0]));
      } catch (error) {
        this.deps.log.warn({ err: error }, 'could not publish the rotation status yet; will retry');
        this.retryLater();
        return false;
      }
      this.unsentStatus.shift();
      this.retryMs = FIRST_RETRY_MS;
    }
    return true;
  }
}
