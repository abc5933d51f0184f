import type { LeasedReading, ReadingBuffer } from '../buffer/types.js';
import type { Logger } from '../log/logger.js';
import type { AlertOutbox } from '../alerts/alert-center.js';
import type { Alert } from '../shared/alert.js';
import type { Clock } from '../shared/clock.js';
import { DROP_CHECK_MS, IDLE_POLL_MS, MAX_HELD_READINGS, MAX_LEASE_READINGS, type CloudConfig } from '../shared/config/cloud.js';
import { TokenBucket } from '../shared/token-bucket.js';
import { UplinkError, reasonCodeOf, refusalClass } from './errors.js';
import { dropAlert, packReadings } from './messages.js';
import type { UplinkMetrics } from './metrics.js';
import { maxPayloadBytes } from './packet-size.js';
import { RefusalTracker, type HoldReason } from './refusals.js';
import type { OutboundMessage, PlatformWire } from './profiles/wire.js';
import type { PendingPublish, PublishCargo, Session } from './session.js';

const PACKET_TOO_LARGE = 0x95;

export interface SenderDeps {
  buffer: ReadingBuffer;
  config: CloudConfig;
  gatewayId: string;
  /** The cloud profile's topics and payloads. */
  wire: PlatformWire;
  log: Logger;
  clock: Clock;
  metrics: Pick<UplinkMetrics, 'messages' | 'readingsSent' | 'pubackSeconds'>;
  /** The connected session to publish on, if any. */
  session: () => Session | undefined;
  stopping: () => boolean;
  /** Counts and logs a refusal that does not end the connection. */
  report: (error: UplinkError) => void;
  /** Raises an alert for the operator (readings set aside). */
  alert: (alert: Alert<'uplink-alert'>) => void;
  /** Alert raises and clears to send, oldest first; each leaves the outbox after its PUBACK. Without it none are sent. */
  alerts?: AlertOutbox;
  /** The cloud profile's cap on readings messages per second (e.g. AWS IoT Core's 100 per connection). */
  maxPublishesPerSecond?: number;
}

/**
 * Keeps the in-flight window of the current session full (the alerts outbox, then drop records, then
 * readings, within the rate cap) and settles every PUBACK with the buffer: acked readings leave
 * it, anything refused or unacknowledged goes back.
 */
export class Sender {
  private readonly limiter: TokenBucket | undefined;
  private readonly publishLimiter: TokenBucket | undefined;
  private readonly pendingAlertIds = new Set<number>();
  private readonly pendingDropIds = new Set<number>();
  private readonly refusals = new RefusalTracker();
  /** Sensors announced on the current connection (PlatformWire.sensorOnline). */
  private readonly announced = new Set<string>();
  private pendingAcks: number[] = [];
  /** Readings messages whose PUBACK is in pendingAcks. */
  private ackedMessages = 0;
  private ackFlushScheduled = false;
  private wakeScheduled = false;
  private nextDropCheck = 0;
  private pollTimer: NodeJS.Timeout | undefined;
  private pollDelay = 0;
  /** Set by the `flush` command: ignore the rate cap until the backlog is empty. */
  private unthrottled = false;
  private acknowledgedReadings = 0;

  constructor(private readonly deps: SenderDeps) {
    this.limiter = deps.config.maxReadingsPerSecond ? new TokenBucket(deps.config.maxReadingsPerSecond) : undefined;
    this.publishLimiter = deps.maxPublishesPerSecond ? new TokenBucket(deps.maxPublishesPerSecond) : undefined;
  }

  /** Sensors announced to the platform on the current connection (PlatformWire.sensorOnline). */
  get announcedSensors(): readonly string[] {
    return [...this.announced];
  }

  /** Readings the broker acknowledged since start. */
  get readingsSent(): number {
    return this.acknowledgedReadings;
  }

  /** Fills the window soon (once per event-loop turn however often it is called): readings were appended, alerts changed or PUBACKs came. */
  readonly wake = (): void => {
    if (this.wakeScheduled || !this.deps.session()?.open) return;
    this.wakeScheduled = true;
    setImmediate(() => {
      this.wakeScheduled = false;
      this.pump();
    });
  };

  /** Starts sending on a freshly connected session. */
  begin(): void {
    this.nextDropCheck = 0;
    this.announced.clear();
    this.pump();
  }

  /** Sends the whole backlog at once, ignoring the rate cap until the buffer is empty. */
  flushBacklog(): void {
    this.unthrottled = true;
    setImmediate(() => this.pump());
  }

  stopPolling(): void {
    clearTimeout(this.pollTimer);
    this.pollTimer = undefined;
  }

  /**
   * Settles a finished session: flushes pending acks, returns everything unacknowledged (and held)
   * to the buffer. When the broker closed it with DISCONNECT 0x95 (packet too large) without having
   * announced its limit, the largest readings message pending counts as refused.
   */
  release(session: Session): void {
    this.stopPolling();
    this.flushAcks();
    // With an announced limit every readings message fitted it: then the culprit was something else.
    if (session.disconnectReason === PACKET_TOO_LARGE && session.maximumPacketSize === undefined) {
      const largest = [...session.pending.values()].filter((e) => e.readingIds).sort((a, b) => (b.bytes ?? 0) - (a.bytes ?? 0))[0];
      if (largest?.readingIds && this.refusals.refused(largest.readingIds) === 'set-aside') {
        this.setAside(largest.readingIds, largest.sensorId, 'the broker closed the connection for it alone: packet too large (0x95)');
      }
    }
    // Everything pending comes back through onPublished, as lost: to the buffer (or the alerts outbox).
    session.release();
    const held = this.refusals.connectionEnded();
    if (held.length > 0) this.safely('nack', () => this.deps.buffer.nack(held));
  }

  /** Fills the in-flight window: drop records first, then readings. */
  private pump(): void {
    const session = this.deps.session();
    if (!session?.open || this.deps.stopping()) {
      this.stopPolling();
      return;
    }
    const window = session.inFlightWindow;
    if (session.pending.size < window) this.sendAlerts(session, window - session.pending.size);
    if (session.pending.size < window && this.deps.clock.now() >= this.nextDropCheck) this.sendDropRecords(session, window - session.pending.size);
    const { maxReadings, maxBytes } = this.deps.config.batch;
    while (session.open && session.pending.size < window) {
      // One lease fills the free part of the window (fewer buffer queries); packing may add at most
      // one extra message per sensor in the lease beyond the window.
      let free = window - session.pending.size;
      // The platform's publish cap holds even for `flush`: beyond it the platform throttles the connection.
      if (this.publishLimiter) {
        free = this.publishLimiter.available(this.deps.clock.now(), free);
        if (free === 0) {
          this.pollIn(this.publishLimiter.waitMs(this.deps.clock.now()));
          return;
        }
      }
      let max = Math.min(maxReadings * free, MAX_LEASE_READINGS);
      if (this.limiter && !this.unthrottled) {
        max = this.limiter.available(this.deps.clock.now(), max);
        if (max === 0) {
          this.pollIn(this.limiter.waitMs(this.deps.clock.now()));
          return;
        }
      }
      let leased: LeasedReading[];
      try {
        leased = this.deps.buffer.lease({ max, maxBytes: maxBytes * free, order: this.deps.config.drainOrder });
      } catch (error) {
        this.deps.log.error({ err: error }, 'uplink: the buffer failed to lease readings; retrying');
        break;
      }
      if (leased.length === 0) {
        this.unthrottled = false;
        break;
      }
      this.limiter?.take(leased.length, this.deps.clock.now());
      // A reading refused alone too often waits unsent until the broker accepts something else (a
      // broker may drop the whole connection for it, and nothing behind it would be acknowledged).
      const waiting = leased.filter((r) => this.refusals.mustWait(r.id));
      const packed = packReadings(waiting.length === 0 ? leased : leased.filter((r) => !this.refusals.mustWait(r.id)), {
        maxReadings,
        maxBytes,
        ...this.payloadLimit(session),
        alone: (id) => this.refusals.isSuspect(id),
        encode: (sensorId, readings) => this.deps.wire.encodeReadings(sensorId, readings),
      });
      let setAsideFailed = false;
      for (const reading of waiting) this.withhold(session, reading, 'refused');
      for (const reading of packed.unsendable) if (!this.withhold(session, reading, 'oversize')) setAsideFailed = true;
      this.publishLimiter?.take(packed.messages.length, this.deps.clock.now());
      for (const { sensorId, ids, payload } of packed.messages) {
        this.announce(session, sensorId);
        this.publish(session, { topic: this.deps.wire.readingsTopic(sensorId), payload }, { readingIds: ids, sensorId, bytes: payload.length });
      }
      // They are back in the buffer's queue: leasing again now would only fail again.
      if (setAsideFailed) break;
    }
    this.pollIn(IDLE_POLL_MS);
  }

  /** The broker's Maximum Packet Size as a payload limit per readings topic (MQTT 5 brokers announce it in CONNACK). */
  private payloadLimit(session: Session): { payloadLimit?: (sensorId: string) => number } {
    const limit = session.maximumPacketSize;
    if (limit === undefined) return {};
    const protocolVersion = this.deps.config.protocolVersion;
    return { payloadLimit: (sensorId) => maxPayloadBytes({ topicBytes: Buffer.byteLength(this.deps.wire.readingsTopic(sensorId)), protocolVersion }, limit) };
  }

  /** Tells a platform that wants it that a sensor is there, before its first readings on this connection (same connection, so in order). */
  private announce(session: Session, sensorId: string): void {
    const wire = this.deps.wire;
    if (!wire.sensorOnline || this.announced.has(sensorId)) return;
    this.announced.add(sensorId);
    const { topic, payload, ...options } = wire.sensorOnline(sensorId);
    session.publishAsync(topic, payload, options).catch((error: unknown) => {
      this.announced.delete(sensorId);
      this.deps.log.warn({ sensor: sensorId, err: error }, 'uplink: could not announce a sensor to the platform');
    });
  }

  /**
   * Keeps a reading from being sent: set aside (one too large for the broker, once it took other
   * readings), or held. False when the buffer failed to set it aside.
   */
  private withhold(session: Session, reading: LeasedReading, reason: HoldReason): boolean {
    const limit = maximumPacketSizeText(session);
    if (this.refusals.withhold(reading.id, reason) === 'set-aside') return this.setAside([reading.id], reading.sensorId, `it alone exceeds ${limit}`);
    this.giveUpIfTooManyHeld(session, () =>
      reason === 'oversize'
        ? new UplinkError('packet-too-large', `readings larger than ${limit} wait while the broker accepts no other readings; raise its max_packet_size, or check that it accepts readings at all`)
        : new UplinkError('publish-rejected', 'readings the broker refused alone wait while it accepts no other readings either, so they stay buffered'),
    );
    return true;
  }

  /** Too many held readings and the broker accepts none: it refuses everything, so end the connection and keep them all. */
  private giveUpIfTooManyHeld(session: Session, error: () => UplinkError): void {
    if (this.refusals.heldCount <= MAX_HELD_READINGS) return;
    const held = this.refusals.giveUpHeld();
    this.safely('nack', () => this.deps.buffer.nack(held));
    session.end(error());
  }

  /**
   * Drops readings the broker will never take, with a `refused` drop record the cloud receives as
   * an alert. False when the buffer could not (they went back to its queue).
   */
  private setAside(ids: number[], sensorId: string | undefined, why: string): boolean {
    let dropped = 0;
    this.safely('drop refused readings', () => (dropped = this.deps.buffer.dropRefused(ids)));
    if (dropped === 0) return false;
    this.nextDropCheck = 0;
    const message = `set aside ${dropped} reading(s)${sensorId ? ` of sensor "${sensorId}"` : ''} that the broker refuses every time (${why}); the drop record (reason "refused") names their seqs`;
    this.deps.log.warn({ sensor: sensorId, readings: dropped, reason: 'refused' }, `uplink: ${message}`);
    this.deps.alert({ type: 'uplink-alert', kind: 'readings-refused', severity: 'warning', message, ts: this.deps.clock.now() });
    return true;
  }

  /** Pumps again after `ms` unless pumped before; the pump runs once per PUBACK burst, so an unchanged delay reuses the timer. */
  private pollIn(ms: number): void {
    if (this.pollTimer && this.pollDelay === ms) {
      this.pollTimer.refresh();
      return;
    }
    clearTimeout(this.pollTimer);
    this.pollDelay = ms;
    this.pollTimer = setTimeout(() => this.pump(), ms);
  }

  private sendDropRecords(session: Session, room: number): void {
    let records;
    try {
      records = this.deps.buffer.dropRecords(room + this.pendingDropIds.size).filter((r) => !this.pendingDropIds.has(r.id));
    } catch (error) {
      this.deps.log.error({ err: error }, 'uplink: the buffer failed to list drop records');
      return;
    }
    // Drop records are rare: look again in a second unless this look filled the room.
    this.nextDropCheck = records.length >= room ? 0 : this.deps.clock.now() + DROP_CHECK_MS;
    for (const record of records.slice(0, room)) {
      this.pendingDropIds.add(record.id);
      this.publish(session, this.deps.wire.alert(dropAlert(this.deps.gatewayId, record)), { dropRecordId: record.id });
    }
  }

  /** Outbox entries not yet pending, oldest first (a raise before its clear: one publish order on one session). */
  private sendAlerts(session: Session, room: number): void {
    const outbox = this.deps.alerts;
    if (!outbox) return;
    let entries;
    try {
      entries = outbox.pending(room + this.pendingAlertIds.size).filter((entry) => !this.pendingAlertIds.has(entry.id));
    } catch (error) {
      this.deps.log.error({ err: error }, 'uplink: the alerts outbox could not be read');
      return;
    }
    for (const entry of entries.slice(0, room)) {
      this.pendingAlertIds.add(entry.id);
      this.publish(session, this.deps.wire.alert(Buffer.from(entry.payload)), { alertOutboxId: entry.id });
    }
  }

  private publish(session: Session, { topic, payload, ...options }: OutboundMessage, cargo: PublishCargo): void {
    session.publish(topic, payload, cargo, (error, entry) => this.onPublished(session, entry, error), options);
  }

  private onPublished(session: Session, entry: PendingPublish, error: UplinkError | undefined): void {
    if (!error) {
      this.deps.metrics.pubackSeconds.observe((this.deps.clock.now() - entry.publishedAt) / 1000);
      if (entry.readingIds) {
        const released = this.refusals.acceptedMessage(entry.readingIds);
        if (released.setAside.length > 0) this.setAside(released.setAside, undefined, `it alone exceeds ${maximumPacketSizeText(session)}`);
        // Refused ones get one more try now that the broker takes readings: refused again, they are set aside.
        if (released.retry.length > 0) this.safely('nack', () => this.deps.buffer.nack(released.retry));
        this.pendingAcks.push(...entry.readingIds);
        this.ackedMessages++;
        this.scheduleAckFlush();
        this.acknowledgedReadings += entry.readingIds.length;
      }
      if (entry.alertOutboxId !== undefined) {
        const id = entry.alertOutboxId;
        this.pendingAlertIds.delete(id);
        this.safely('alerts outbox delivered', () => this.deps.alerts?.delivered(id));
        this.deps.metrics.messages.inc({ type: 'alert' });
      }
      if (entry.dropRecordId !== undefined) {
        this.pendingDropIds.delete(entry.dropRecordId);
        this.safely('ack drop record', () => this.deps.buffer.ackDropRecords([entry.dropRecordId as number]));
        this.deps.metrics.messages.inc({ type: 'alert' });
      }
      // PUBACKs arrive in bursts: refill the window once per burst, with one bigger lease.
      this.wake();
      return;
    }
    const code = reasonCodeOf(error);
    if (code !== undefined && entry.readingIds && refusalClass(code) === 'permanent') {
      this.permanentlyRefused(session, entry, entry.readingIds, error);
      return;
    }
    this.returnToBuffer(entry);
    // A refused publish (e.g. 0x87 when gateway.id is not the certificate's CN) would repeat for
    // every message: drop the connection and let the backoff pace the retries.
    session.end(error);
  }

  /** A refusal about this message's content: the connection stays; its readings are retried alone, then set aside. */
  private permanentlyRefused(session: Session, entry: PublishCargo, ids: number[], refusal: UplinkError): void {
    this.deps.report(refusal);
    const verdict = this.refusals.refused(ids);
    if (verdict === 'retry') this.returnToBuffer(entry);
    else if (verdict === 'set-aside') this.setAside(ids, entry.sensorId, refusal.message);
    else this.giveUpIfTooManyHeld(session, () => new UplinkError(refusal.kind, `${refusal.message}; the broker accepts no other readings either, so they stay buffered`, refusal.code));
    this.wake();
  }

  private returnToBuffer(entry: PublishCargo): void {
    if (entry.readingIds) {
      const ids = entry.readingIds;
      this.safely('nack', () => this.deps.buffer.nack(ids));
    }
    if (entry.dropRecordId !== undefined) this.pendingDropIds.delete(entry.dropRecordId);
    if (entry.alertOutboxId !== undefined) this.pendingAlertIds.delete(entry.alertOutboxId);
  }

  private scheduleAckFlush(): void {
    if (this.ackFlushScheduled) return;
    this.ackFlushScheduled = true;
    setImmediate(() => this.flushAcks());
  }

  /** Acks (and their metrics) are coalesced per event-loop turn: one buffer call for many PUBACKs. */
  private flushAcks(): void {
    this.ackFlushScheduled = false;
    if (this.pendingAcks.length === 0) return;
    const ids = this.pendingAcks;
    this.pendingAcks = [];
    this.deps.metrics.readingsSent.inc(ids.length);
    this.deps.metrics.messages.inc({ type: 'readings' }, this.ackedMessages);
    this.ackedMessages = 0;
    this.safely('ack', () => this.deps.buffer.ack(ids));
  }

  private safely(what: string, work: () => void): void {
    try {
      work();
    } catch (error) {
      this.deps.log.error({ err: error }, `uplink: buffer ${what} failed`);
    }
  }
}

function maximumPacketSizeText(session: Session): string {
  return `the broker's Maximum Packet Size (${session.maximumPacketSize ?? '?'} bytes)`;
}
