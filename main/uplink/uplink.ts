import type { TcpSocketConnectOpts } from 'node:net';
import type { ConnectionOptions } from 'node:tls';
import { connect, type IClientOptions, type IPublishPacket, type MqttClient } from 'mqtt';
import { Counter, Gauge } from 'prom-client';
import type { LeasedReading, ReadingBuffer } from '../buffer/types.js';
import type { GatewayAlert } from '../shared/alert.js';
import type { Logger } from '../log/logger.js';
import type { Registry } from '../metrics/registry.js';
import type { Clock } from '../shared/clock.js';
import type { CloudConfig } from '../shared/config/cloud.js';
import type { Component } from '../shared/lifecycle.js';
import type { TlsCredentialProvider } from '../shared/tls.js';
import { Backoff } from './backoff.js';
import { parseCommand, type Command } from './commands.js';
import { certFacts } from './credentials.js';
import {
  UplinkError,
  classifyConnack,
  classifyConnectError,
  classifyPubackRefusal,
  type ClassifyContext,
  type ClientCertFacts,
  type UplinkErrorKind,
} from './errors.js';
import { alertMessage, dropAlert, packReadings } from './messages.js';
import { RateLimit } from './rate-limit.js';
import { Topics, topicMatches } from './topics.js';

export interface UplinkDeps {
  buffer: ReadingBuffer;
  config: CloudConfig;
  gatewayId: string;
  /** Called at every connect, so a rotated certificate is used from the next connection on. */
  credentials: TlsCredentialProvider;
  log: Logger;
  clock: Clock;
  metrics: Registry;
  version: string;
  /** Jitter source for the reconnect backoff; defaults to Math.random. */
  random?: () => number;
}

export type UplinkState = 'stopped' | 'connecting' | 'connected' | 'waiting';

export interface UplinkStatus {
  state: UplinkState;
  broker: string;
  gatewayId: string;
  protocolVersion: 4 | 5;
  connectedSince: string | null;
  nextAttemptAt: string | null;
  lastError: { kind: UplinkErrorKind; message: string; at: string } | null;
  /** Failures since start, by kind. */
  errors: Partial<Record<UplinkErrorKind, number>>;
  inFlightMessages: number;
  readingsSent: number;
  certificate: { commonName: string | null; validTo: string | null } | null;
}

export type ControlHandler = (payload: Buffer, topic: string) => void | Promise<void>;

const IDLE_POLL_MS = 250;
const DROP_CHECK_MS = 1_000;
/** Readings per buffer lease, bounding memory while a large backlog drains. */
const MAX_LEASE = 5_000;
const STOP_DRAIN_MS = 2_000;
const MAX_COMMAND_BYTES = 16 * 1024;
/** Buffer alerts kept while offline; older ones are dropped first (they are also in the log). */
const MAX_QUEUED_ALERTS = 100;

interface InFlight {
  readingIds?: number[];
  readings?: number;
  dropRecordId?: number;
  alert?: GatewayAlert;
}

/** One MQTT connection. Everything in flight on it is returned to the buffer when it closes. */
class Session {
  open = true;
  readonly inFlight = new Map<number, InFlight>();
  /** cloud.inFlight, lowered to the broker's MQTT 5 Receive Maximum when it announces one. */
  window = 1;
  readonly ended: Promise<UplinkError | undefined>;
  private finish!: (reason: UplinkError | undefined) => void;

  constructor(
    readonly client: MqttClient,
    readonly since: number,
  ) {
    this.ended = new Promise((resolve) => (this.finish = resolve));
  }

  end(reason: UplinkError | undefined): void {
    if (!this.open) return;
    this.open = false;
    this.finish(reason);
  }
}

interface Waiter {
  afterAttempt: number;
  resolve: () => void;
  reject: (error: Error) => void;
}

/**
 * Sends buffered readings to the cloud broker over MQTT with mutual TLS, QoS 1. A reading leaves
 * the buffer only when the broker acknowledged it (PUBACK with a success reason); everything
 * unacknowledged is returned to the buffer when the connection drops. Reconnects with its own
 * exponential backoff with full jitter.
 */
export class Uplink implements Component {
  readonly name = 'uplink';
  private readonly topics: Topics;
  private readonly backoff: Backoff;
  private readonly limiter: RateLimit | undefined;
  private readonly controls = new Map<string, Set<ControlHandler>>();
  private readonly dropsInFlight = new Set<number>();
  private readonly alertQueue: GatewayAlert[] = [];
  private readonly errorCounts: Partial<Record<UplinkErrorKind, number>> = {};
  private readonly waiters: Waiter[] = [];
  private readonly metrics: {
    errors: Counter<'kind'>;
    connected: Gauge;
    readingsSent: Counter;
    messages: Counter<'type'>;
    connects: Counter;
  };

  private state: UplinkState = 'stopped';
  private session: Session | undefined;
  private loopDone: Promise<void> | undefined;
  private stopping = false;
  private attemptsStarted = 0;
  private immediateAttempt = false;
  private cancelSleep: (() => void) | undefined;
  private abortConnect: (() => void) | undefined;
  private nextAttemptAt: number | null = null;
  private lastError: UplinkStatus['lastError'] = null;
  private cert: ClientCertFacts | undefined;
  private readingsSent = 0;
  private publishKey = 0;
  private pendingAcks: number[] = [];
  /** Readings messages whose PUBACK is in pendingAcks. */
  private ackedMessages = 0;
  private ackFlushScheduled = false;
  private wakeScheduled = false;
  private nextDropCheck = 0;
  private pollTimer: NodeJS.Timeout | undefined;
  private pollDelay = 0;
  private statusTimer: NodeJS.Timeout | undefined;
  /** Set by the `flush` command: ignore the rate cap until the backlog is empty. */
  private unthrottled = false;

  constructor(private readonly deps: UplinkDeps) {
    this.topics = new Topics(deps.config.topicPrefix, deps.gatewayId);
    const { initialMs, maxMs, stableMs } = deps.config.backoff;
    this.backoff = new Backoff({ initialMs, maxMs, stableMs, random: deps.random ?? Math.random });
    this.limiter = deps.config.maxReadingsPerSecond ? new RateLimit(deps.config.maxReadingsPerSecond, deps.clock.now()) : undefined;
    const registers = [deps.metrics];
    this.metrics = {
      errors: new Counter({ name: 'fieldgate_uplink_errors_total', help: 'Uplink connect and publish failures by kind', labelNames: ['kind'], registers }),
      connected: new Gauge({ name: 'fieldgate_uplink_connected', help: '1 while connected to the broker', registers }),
      readingsSent: new Counter({ name: 'fieldgate_uplink_readings_sent_total', help: 'Readings acknowledged by the broker (PUBACK)', registers }),
      messages: new Counter({ name: 'fieldgate_uplink_messages_total', help: 'Messages acknowledged by the broker, by type', labelNames: ['type'], registers }),
      connects: new Counter({ name: 'fieldgate_uplink_connects_total', help: 'Successful connections to the broker', registers }),
    };
    const inFlight = () => this.session?.inFlight.size ?? 0;
    new Gauge({
      name: 'fieldgate_uplink_inflight_messages',
      help: 'Messages published and not yet acknowledged',
      registers,
      collect() {
        this.set(inFlight());
      },
    });
  }

  async start(): Promise<void> {
    this.stopping = false;
    this.state = 'connecting';
    this.deps.log.info(
      { broker: this.deps.config.url, gatewayId: this.deps.gatewayId, protocolVersion: this.deps.config.protocolVersion },
      'uplink starting',
    );
    // Connecting runs in the background: the gateway keeps buffering while the broker is away.
    this.loopDone = this.loop().catch((error: unknown) => this.deps.log.error({ err: error }, 'uplink loop failed'));
  }

  async stop(): Promise<void> {
    if (this.stopping || !this.loopDone) return;
    this.stopping = true;
    this.cancelSleep?.();
    this.abortConnect?.();
    const session = this.session;
    if (session?.open) await this.closeGracefully(session);
    await this.loopDone;
    this.state = 'stopped';
    for (const waiter of this.waiters.splice(0)) waiter.reject(new UplinkError('connection-lost', 'uplink stopped'));
  }

  /** Queues an alert for `<prefix>/<gatewayId>/alerts`; sent (QoS 1) as soon as the uplink is connected. */
  publishAlert(alert: GatewayAlert): void {
    this.alertQueue.push(alert);
    if (this.alertQueue.length > MAX_QUEUED_ALERTS) this.alertQueue.shift();
    this.wake();
  }

  /** Wakes the sender: call after readings were appended so they go out without waiting for the idle poll. */
  wake(): void {
    if (this.wakeScheduled || !this.session?.open) return;
    this.wakeScheduled = true;
    setImmediate(() => {
      this.wakeScheduled = false;
      this.pump();
    });
  }

  status(): UplinkStatus {
    const iso = (ms: number | null | undefined) => (ms === null || ms === undefined ? null : new Date(ms).toISOString());
    return {
      state: this.state,
      broker: this.deps.config.url,
      gatewayId: this.deps.gatewayId,
      protocolVersion: this.deps.config.protocolVersion,
      connectedSince: iso(this.session?.open ? this.session.since : null),
      nextAttemptAt: this.state === 'waiting' ? iso(this.nextAttemptAt) : null,
      lastError: this.lastError,
      errors: { ...this.errorCounts },
      inFlightMessages: this.session?.inFlight.size ?? 0,
      readingsSent: this.readingsSent,
      certificate: this.cert ? { commonName: this.cert.commonName ?? null, validTo: iso(this.cert.validTo) } : null,
    };
  }

  /** Publishes QoS 1 to `<prefix>/<gatewayId>/<topicSuffix>`; resolves on a successful PUBACK. Rejects when not connected. */
  publishControl(topicSuffix: string, payload: string | Uint8Array | object, options: { retain?: boolean } = {}): Promise<void> {
    const topic = this.topics.control(topicSuffix);
    const session = this.session;
    if (!session?.open) return Promise.reject(new UplinkError('connection-lost', `cannot publish to "${topic}": the uplink is not connected`));
    const body = typeof payload === 'string' || payload instanceof Uint8Array ? Buffer.from(payload) : Buffer.from(JSON.stringify(payload));
    return new Promise((resolve, reject) => {
      session.client.publish(topic, body, { qos: 1, retain: options.retain ?? false }, (error) => {
        if (!error) {
          this.metrics.messages.inc({ type: 'control' });
          resolve();
          return;
        }
        const code = (error as { code?: unknown }).code;
        reject(typeof code === 'number' ? classifyPubackRefusal(code, topic, this.context()) : new UplinkError('connection-lost', `publish to "${topic}" failed: ${error.message}`));
      });
    });
  }

  /** Subscribes (QoS 1) to `<prefix>/<gatewayId>/<topicSuffix>` (wildcards allowed), now and after every reconnect. Returns an unsubscribe function. */
  onControl(topicSuffix: string, handler: ControlHandler): () => void {
    const filter = this.topics.control(topicSuffix);
    let handlers = this.controls.get(filter);
    if (!handlers) {
      handlers = new Set();
      this.controls.set(filter, handlers);
      if (this.session?.open) this.session.client.subscribe(filter, { qos: 1 });
    }
    handlers.add(handler);
    return () => {
      const set = this.controls.get(filter);
      set?.delete(handler);
      if (set?.size === 0) {
        this.controls.delete(filter);
        if (this.session?.open) this.session.client.unsubscribe(filter);
      }
    };
  }

  /**
   * Drops the current connection and connects again with freshly read credentials. Resolves once
   * connected; rejects with the classified UplinkError if that attempt fails (the uplink then goes
   * on retrying with backoff).
   */
  reconnect(): Promise<void> {
    if (!this.loopDone || this.stopping) return Promise.reject(new UplinkError('connection-lost', 'the uplink is not running'));
    return new Promise((resolve, reject) => {
      this.waiters.push({ afterAttempt: this.attemptsStarted, resolve, reject });
      this.immediateAttempt = true;
      this.cancelSleep?.();
      this.session?.end(undefined);
    });
  }

  private async loop(): Promise<void> {
    while (!this.stopping) {
      const attempt = ++this.attemptsStarted;
      this.immediateAttempt = false;
      this.state = 'connecting';
      let session: Session | undefined;
      try {
        session = await this.connectOnce();
      } catch (error) {
        const classified = error instanceof UplinkError ? error : classifyConnectError(error, this.context());
        if (!this.stopping) this.recordError(classified);
        this.settleWaiters(attempt, classified);
      }
      if (session) {
        this.settleWaiters(attempt);
        if (this.immediateAttempt || this.stopping) session.end(undefined);
        const reason = await session.ended;
        this.teardown(session);
        if (reason) this.recordError(reason);
        else if (!this.stopping) this.deps.log.info('uplink disconnected');
      }
      if (this.stopping) break;
      if (this.immediateAttempt) continue;
      const delay = this.backoff.nextDelay(this.deps.clock.now());
      this.state = 'waiting';
      this.nextAttemptAt = this.deps.clock.now() + delay;
      this.deps.log.info({ retryInMs: delay }, 'uplink will retry');
      await this.sleep(delay);
    }
  }

  private settleWaiters(attempt: number, error?: Error): void {
    for (let i = this.waiters.length - 1; i >= 0; i--) {
      const waiter = this.waiters[i] as Waiter;
      if (waiter.afterAttempt >= attempt) continue;
      this.waiters.splice(i, 1);
      if (error) waiter.reject(error);
      else waiter.resolve();
    }
  }

  private sleep(ms: number): Promise<void> {
    return new Promise<void>((resolve) => {
      const timer = setTimeout(done, ms);
      function done() {
        clearTimeout(timer);
        resolve();
      }
      this.cancelSleep = done;
    }).finally(() => (this.cancelSleep = undefined));
  }

  private context(): ClassifyContext {
    return { url: this.deps.config.url, gatewayId: this.deps.gatewayId, now: this.deps.clock.now(), ...(this.cert ? { cert: this.cert } : {}) };
  }

  private recordError(error: UplinkError): void {
    this.errorCounts[error.kind] = (this.errorCounts[error.kind] ?? 0) + 1;
    this.metrics.errors.inc({ kind: error.kind });
    this.lastError = { kind: error.kind, message: error.message, at: new Date(this.deps.clock.now()).toISOString() };
    this.deps.log.error({ kind: error.kind, code: error.code }, `uplink: ${error.message}`);
  }

  private statusPayload(online: boolean): Buffer {
    const body: Record<string, unknown> = { online, version: this.deps.version };
    if (online) {
      body.bufferDepth = this.bufferDepth();
      body.ts = new Date(this.deps.clock.now()).toISOString();
    }
    return Buffer.from(JSON.stringify(body));
  }

  private bufferDepth(): number | null {
    try {
      return this.deps.buffer.stats(this.deps.clock.now()).depth;
    } catch {
      return null;
    }
  }

  private async connectionOptions(): Promise<IClientOptions> {
    const { config } = this.deps;
    const secure = /^(mqtts|wss):/.test(config.url);
    const options: IClientOptions = {
      protocolVersion: config.protocolVersion,
      clientId: config.clientId ?? this.deps.gatewayId,
      clean: true,
      keepalive: config.keepaliveSeconds,
      connectTimeout: config.connectTimeoutMs,
      reconnectPeriod: 0,
      resubscribe: false,
      will: { topic: this.topics.status, payload: this.statusPayload(false), qos: 1, retain: true },
    };
    // Small QoS 1 messages and their PUBACKs should not wait for Nagle's algorithm.
    const noNagle: Pick<TcpSocketConnectOpts, 'noDelay'> = { noDelay: true };
    if (!secure) {
      this.cert = undefined;
      this.deps.log.warn({ broker: config.url }, 'uplink: connecting WITHOUT TLS (cloud.allowInsecure is true): readings and the device identity travel in plaintext');
      return { ...options, ...noNagle };
    }
    const credentials = await this.deps.credentials().catch((error: unknown) => {
      throw error instanceof UplinkError ? error : new UplinkError('bad-credentials', `cannot load the client certificate: ${error instanceof Error ? error.message : String(error)}`);
    });
    this.cert = certFacts(credentials.cert);
    const cn = this.cert.commonName;
    if (cn !== undefined && cn !== this.deps.gatewayId) {
      const message = `the client certificate's CN "${cn}" differs from gateway.id "${this.deps.gatewayId}": a broker that confines gateways to their CN will refuse every publish`;
      // MQTT 3.1.1 cannot report refused publishes, so readings would be acked and lost: do not send.
      if (config.protocolVersion === 4) throw new UplinkError('identity-mismatch', `${message}; with protocolVersion 4 the uplink does not send at all`);
      this.deps.log.warn({ certificateCn: cn, gatewayId: this.deps.gatewayId }, `uplink: ${message}`);
    }
    // TLS >= 1.2 and hostname verification (rejectUnauthorized runs checkServerIdentity).
    const minimumTls: Pick<ConnectionOptions, 'minVersion'> = { minVersion: 'TLSv1.2' };
    return { ...options, ...noNagle, ...minimumTls, ca: credentials.ca, cert: credentials.cert, key: credentials.key, rejectUnauthorized: true };
  }

  /** Connects, subscribes and announces itself online; throws a classified UplinkError on any failure. */
  private async connectOnce(): Promise<Session> {
    const options = await this.connectionOptions();
    const client = connect(this.deps.config.url, options);
    let firstError: unknown;
    client.on('error', (error) => {
      firstError ??= error;
    });
    let closedEarly: (() => void) | undefined;
    let receiveMaximum: number | undefined;
    try {
      await new Promise<void>((resolve, reject) => {
        this.abortConnect = () => reject(new UplinkError('connection-lost', 'the uplink stopped while connecting'));
        if (this.stopping) this.abortConnect();
        closedEarly = () => reject(firstError ?? new UplinkError('connection-lost', `${this.deps.config.url} closed the connection before it was established`));
        client.once('connect', (connack) => {
          receiveMaximum = connack.properties?.receiveMaximum;
          resolve();
        });
        client.once('close', closedEarly);
      });
    } catch (error) {
      client.end(true);
      if (this.stopping) throw new UplinkError('connection-lost', 'the uplink stopped while connecting');
      const code = (error as { code?: unknown }).code;
      if (typeof code === 'number') throw classifyConnack(code, this.deps.config.protocolVersion, this.context());
      throw classifyConnectError(error, this.context());
    }
    this.abortConnect = undefined;
    const session = new Session(client, this.deps.clock.now());
    session.window = Math.max(1, Math.min(this.deps.config.inFlight, receiveMaximum ?? Number.POSITIVE_INFINITY));
    if (closedEarly) client.removeListener('close', closedEarly);
    client.on('close', () => {
      session.end(firstError ? classifyConnectError(firstError, this.context()) : new UplinkError('connection-lost', `the connection to ${this.deps.config.url} was lost`));
    });
    client.on('error', (error) => {
      firstError = error;
    });
    client.on('message', (topic, payload, packet) => this.onMessage(session, topic, payload, packet));
    this.session = session;
    try {
      // Either step may never be answered if the connection dies meanwhile: the session's end wins then.
      const ended = session.ended.then((reason) => {
        throw reason ?? new UplinkError('connection-lost', 'the connection closed while subscribing');
      });
      ended.catch(() => undefined); // it also rejects after a successful start, when the session ends
      await Promise.race([this.subscribe(session).then(() => this.publishStatus(session)), ended]);
    } catch (error) {
      session.end(undefined);
      this.teardown(session);
      throw error instanceof UplinkError ? error : classifyConnectError(error, this.context());
    }
    this.state = 'connected';
    this.nextAttemptAt = null;
    this.backoff.connected(this.deps.clock.now());
    this.metrics.connects.inc();
    this.metrics.connected.set(1);
    this.deps.log.info({ broker: this.deps.config.url, certificateCn: this.cert?.commonName, inFlight: session.window }, 'uplink connected');
    this.statusTimer = setInterval(() => void this.publishStatus(session).catch(() => undefined), this.deps.config.statusIntervalMs);
    this.nextDropCheck = 0;
    this.pump();
    return session;
  }

  private subscribe(session: Session): Promise<void> {
    const filters = [this.topics.commands, ...this.controls.keys()];
    return new Promise((resolve, reject) => {
      session.client.subscribe(filters, { qos: 1 }, (error, granted) => {
        if (error) return reject(error);
        const refused = (granted ?? []).filter((g) => g.qos >= 0x80);
        if (refused.length > 0) {
          return reject(
            new UplinkError(
              'not-authorized',
              `the broker refused the subscription to ${refused.map((g) => `"${g.topic}"`).join(', ')}: check that gateway.id "${this.deps.gatewayId}" equals the certificate's CN ("${this.cert?.commonName ?? '?'}")`,
              refused[0]?.qos,
            ),
          );
        }
        resolve();
      });
    });
  }

  private publishStatus(session: Session): Promise<void> {
    return new Promise((resolve, reject) => {
      if (!session.open) return resolve();
      session.client.publish(this.topics.status, this.statusPayload(true), { qos: 1, retain: true }, (error) => {
        if (!error) {
          this.metrics.messages.inc({ type: 'status' });
          return resolve();
        }
        const code = (error as { code?: unknown }).code;
        reject(typeof code === 'number' ? classifyPubackRefusal(code, this.topics.status, this.context()) : error);
      });
    });
  }

  /** Fills the in-flight window: drop records first, then readings. */
  private pump(): void {
    const session = this.session;
    if (!session?.open || this.stopping) {
      this.cancelPoll();
      return;
    }
    const { window } = session;
    while (this.alertQueue.length > 0 && session.inFlight.size < window) {
      const alert = this.alertQueue.shift() as GatewayAlert;
      this.publish(session, this.topics.alerts, alertMessage(this.deps.gatewayId, alert), { alert });
    }
    if (session.inFlight.size < window && this.deps.clock.now() >= this.nextDropCheck) this.sendDropRecords(session, window - session.inFlight.size);
    const { maxReadings, maxBytes } = this.deps.config.batch;
    while (session.open && session.inFlight.size < window) {
      // One lease fills the free part of the window (fewer buffer queries); packing may add at most
      // one extra message per sensor in the lease beyond the window.
      const free = window - session.inFlight.size;
      let max = Math.min(maxReadings * free, MAX_LEASE);
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
      for (const message of packReadings(leased, { maxReadings, maxBytes })) {
        this.publish(session, this.topics.readings(message.sensorId), message.payload, { readingIds: message.ids, readings: message.ids.length });
      }
    }
    this.pollIn(IDLE_POLL_MS);
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

  private cancelPoll(): void {
    clearTimeout(this.pollTimer);
    this.pollTimer = undefined;
  }

  private sendDropRecords(session: Session, room: number): void {
    let records;
    try {
      records = this.deps.buffer.dropRecords(room + this.dropsInFlight.size).filter((r) => !this.dropsInFlight.has(r.id));
    } catch (error) {
      this.deps.log.error({ err: error }, 'uplink: the buffer failed to list drop records');
      return;
    }
    // Drop records are rare: look again in a second unless this look filled the room.
    this.nextDropCheck = records.length >= room ? 0 : this.deps.clock.now() + DROP_CHECK_MS;
    for (const record of records.slice(0, room)) {
      this.dropsInFlight.add(record.id);
      this.publish(session, this.topics.alerts, dropAlert(this.deps.gatewayId, record), { dropRecordId: record.id });
    }
  }

  private publish(session: Session, topic: string, payload: Buffer, entry: InFlight): void {
    const key = ++this.publishKey;
    session.inFlight.set(key, entry);
    session.client.publish(topic, payload, { qos: 1 }, (error) => this.onPublished(session, key, topic, error));
  }

  private onPublished(session: Session, key: number, topic: string, error: Error | undefined): void {
    const entry = session.inFlight.get(key);
    if (!entry) return; // already returned to the buffer when the connection closed
    session.inFlight.delete(key);
    if (!error) {
      if (entry.readingIds) {
        this.pendingAcks.push(...entry.readingIds);
        this.ackedMessages++;
        this.scheduleAckFlush();
        this.readingsSent += entry.readings ?? 0;
      }
      if (entry.alert) this.metrics.messages.inc({ type: 'alert' });
      if (entry.dropRecordId !== undefined) {
        this.dropsInFlight.delete(entry.dropRecordId);
        this.safely('ack drop record', () => this.deps.buffer.ackDropRecords([entry.dropRecordId as number]));
        this.metrics.messages.inc({ type: 'alert' });
      }
      // PUBACKs arrive in bursts: refill the window once per burst, with one bigger lease.
      this.wake();
      return;
    }
    this.returnToBuffer(entry);
    const code = (error as { code?: unknown }).code;
    // A refused publish (e.g. 0x87 when gateway.id is not the certificate's CN) would repeat for
    // every message: drop the connection and let the backoff pace the retries.
    session.end(typeof code === 'number' ? classifyPubackRefusal(code, topic, this.context()) : classifyConnectError(error, this.context()));
  }

  private returnToBuffer(entry: InFlight): void {
    if (entry.readingIds) {
      const ids = entry.readingIds;
      this.safely('nack', () => this.deps.buffer.nack(ids));
    }
    if (entry.dropRecordId !== undefined) this.dropsInFlight.delete(entry.dropRecordId);
    if (entry.alert) this.alertQueue.unshift(entry.alert);
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
    this.metrics.readingsSent.inc(ids.length);
    this.metrics.messages.inc({ type: 'readings' }, this.ackedMessages);
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

  private onMessage(session: Session, topic: string, payload: Buffer, packet: IPublishPacket): void {
    const name = this.topics.commandName(topic);
    if (name !== undefined) {
      this.onCommand(session, name, payload, packet);
      return;
    }
    for (const [filter, handlers] of this.controls) {
      if (!topicMatches(filter, topic)) continue;
      for (const handler of handlers) {
        Promise.resolve()
          .then(() => handler(payload, topic))
          .catch((error: unknown) => this.deps.log.error({ err: error, topic }, 'uplink: control handler failed'));
      }
    }
  }

  private onCommand(session: Session, name: string, payload: Buffer, packet: IPublishPacket): void {
    const parsed =
      payload.length > MAX_COMMAND_BYTES
        ? { ok: false as const, error: `command "${name}": payload larger than ${MAX_COMMAND_BYTES} bytes` }
        : parseCommand(name, payload);
    if (!parsed.ok) {
      this.deps.log.warn({ command: name, error: parsed.error }, 'uplink: rejected inbound command');
      this.reply(session, name, packet, { ...(parsed.id ? { id: parsed.id } : {}), command: name, ok: false, error: parsed.error });
      return;
    }
    this.deps.log.info({ command: parsed.command.name, id: parsed.command.id }, 'uplink: command received');
    this.reply(session, name, packet, { ...(parsed.command.id ? { id: parsed.command.id } : {}), command: name, ok: true, result: this.run(parsed.command) });
  }

  private run(command: Command): Record<string, unknown> {
    const bufferDepth = this.bufferDepth();
    if (command.name === 'flush') {
      this.unthrottled = true;
      setImmediate(() => this.pump());
      return { bufferDepth, flushing: true };
    }
    return { version: this.deps.version, bufferDepth, ts: new Date(this.deps.clock.now()).toISOString() };
  }

  /** Replies on the MQTT 5 response topic when the request named one, else on `…/cmd-result/<name>`. */
  private reply(session: Session, name: string, request: IPublishPacket, body: Record<string, unknown>): void {
    if (!session.open) return;
    const responseTopic = request.properties?.responseTopic;
    const correlationData = request.properties?.correlationData;
    const topic = responseTopic ?? this.topics.commandResult(name);
    const properties = this.deps.config.protocolVersion === 5 && correlationData ? { properties: { correlationData } } : {};
    session.client.publish(topic, Buffer.from(JSON.stringify(body)), { qos: 1, ...properties }, (error) => {
      if (error) this.deps.log.warn({ topic, err: error }, 'uplink: could not publish a command result');
    });
  }

  private async closeGracefully(session: Session): Promise<void> {
    this.cancelPoll();
    const deadline = Date.now() + STOP_DRAIN_MS;
    while (session.open && session.inFlight.size > 0 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 20));
    if (session.open) {
      await new Promise<void>((resolve) => {
        session.client.publish(this.topics.status, this.statusPayload(false), { qos: 1, retain: true }, () => resolve());
        setTimeout(resolve, STOP_DRAIN_MS).unref();
      });
    }
    session.end(undefined);
  }

  /** Releases a finished session: flushes acks, returns everything unacknowledged to the buffer. */
  private teardown(session: Session): void {
    this.cancelPoll();
    clearInterval(this.statusTimer);
    this.statusTimer = undefined;
    this.flushAcks();
    for (const entry of session.inFlight.values()) this.returnToBuffer(entry);
    session.inFlight.clear();
    session.client.end(this.stopping ? false : true);
    if (this.session === session) this.session = undefined;
    this.metrics.connected.set(0);
  }
}

