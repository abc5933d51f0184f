import type { IPublishPacket } from 'mqtt';
import type { ReadingBuffer } from '../buffer/types.js';
import type { AlertOutbox } from '../alerts/alert-center.js';
import type { Alert } from '../shared/alert.js';
import type { Logger } from '../log/logger.js';
import type { Registry } from '../metrics/registry.js';
import type { Clock } from '../shared/clock.js';
import { STOP_DRAIN_MS, withoutUserinfo, type CloudConfig } from '../shared/config/cloud.js';
import type { Component } from '../shared/lifecycle.js';
import type { TlsCredentialProvider } from '../shared/tls.js';
import { Backoff } from '../shared/backoff.js';
import { ClientOptionsBuilder } from './client-options.js';
import { HeldUplinkError } from './credentials.js';
import { CommandHandler } from './command-handler.js';
import { ControlSubscriptions, type ControlHandler } from './control-subscriptions.js';
import { UplinkError, classifyConnectError, classifySubackRefusal, type ClassifyContext, type UplinkErrorKind } from './errors.js';
import { createUplinkMetrics, type UplinkMetrics } from './metrics.js';
import { createWire, profileLimits, type ProfileLimits } from './profiles/index.js';
import type { OutboundMessage, PlatformWire } from './profiles/wire.js';
import { ReconnectWaiters } from './reconnect-waiters.js';
import { Sender } from './sender.js';
import { openSession, type Session } from './session.js';
import { TlsSessionCache } from './tls-session-cache.js';

export type { ControlHandler };

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
  /** Where the uplink's own alerts go (`uplink-alert`, e.g. readings set aside): the alerts component, whose outbox it then sends. */
  onAlert?: (alert: Alert<'uplink-alert'>) => void;
  /** Alert raises, clears and notices for `<prefix>/<gatewayId>/alerts`, and the counts in the retained status. */
  alerts?: AlertOutbox;
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

/**
 * Sends buffered readings to the cloud broker over MQTT with mutual TLS, QoS 1. A reading leaves
 * the buffer only when the broker acknowledged it (PUBACK with a success reason); everything
 * unacknowledged is returned to the buffer when the connection drops. Reconnects with its own
 * exponential backoff with full jitter.
 */
export class Uplink implements Component {
  readonly name = 'uplink';
  private readonly wire: PlatformWire;
  private readonly backoff: Backoff;
  private readonly clientOptions: ClientOptionsBuilder;
  private readonly sender: Sender;
  private readonly commands: CommandHandler;
  private readonly controls: ControlSubscriptions;
  private readonly errorCounts: Partial<Record<UplinkErrorKind, number>> = {};
  private readonly waiters = new ReconnectWaiters();
  private readonly metrics: UplinkMetrics;
  private readonly limits: ProfileLimits;
  /** cloud.url as logged and shown: never with credentials. */
  private readonly broker: string;

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
  private statusTimer: NodeJS.Timeout | undefined;

  constructor(private readonly deps: UplinkDeps) {
    const { config, gatewayId, log, clock } = deps;
    this.broker = withoutUserinfo(config.url);
    this.wire = createWire(config, gatewayId, log);
    this.limits = profileLimits(config);
    this.backoff = new Backoff({ ...config.backoff, ...(deps.random && { random: deps.random }) });
    this.clientOptions = new ClientOptionsBuilder({ config, gatewayId, credentials: deps.credentials, wire: this.wire, log, tlsSessions: new TlsSessionCache(deps.metrics) });
    this.metrics = createUplinkMetrics(deps.metrics, () => this.session?.pending.size ?? 0);
    const session = () => this.session;
    this.sender = new Sender({
      buffer: deps.buffer,
      config,
      gatewayId,
      wire: this.wire,
      log,
      clock,
      metrics: this.metrics,
      session,
      stopping: () => this.stopping,
      report: (error) => this.recordError(error),
      alert: (alert) => deps.onAlert?.(alert),
      ...(deps.alerts && { alerts: deps.alerts }),
      ...(this.limits.maxPublishesPerSecond && { maxPublishesPerSecond: this.limits.maxPublishesPerSecond }),
    });
    this.commands = new CommandHandler({
      version: deps.version,
      log,
      clock,
      bufferDepth: () => this.bufferDepth(),
      flush: () => this.sender.flushBacklog(),
    });
    this.controls = new ControlSubscriptions({ log, session, topicFilter: (suffixFilter) => this.wire.controlFilter(suffixFilter) });
    this.wake = this.sender.wake;
  }

  async start(): Promise<void> {
    this.stopping = false;
    this.state = 'connecting';
    this.deps.log.info(
      { broker: this.broker, gatewayId: this.deps.gatewayId, protocolVersion: this.deps.config.protocolVersion },
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
    this.waiters.rejectAll(new UplinkError('connection-lost', 'uplink stopped'));
  }

  /** Publishes the retained status again now (the active alert counts changed); a no-op while not connected. */
  refreshStatus(): void {
    const session = this.session;
    if (session?.open) void this.publishStatus(session).catch(() => undefined);
  }

  /** Wakes the sender: call after readings were appended (or alerts changed) so they go out without waiting for the idle poll. */
  readonly wake: () => void;

  status(): UplinkStatus {
    const iso = (ms: number | null | undefined) => (ms === null || ms === undefined ? null : new Date(ms).toISOString());
    const cert = this.clientOptions.cert;
    return {
      state: this.state,
      broker: this.broker,
      gatewayId: this.deps.gatewayId,
      protocolVersion: this.deps.config.protocolVersion,
      connectedSince: iso(this.session?.open ? this.session.since : null),
      nextAttemptAt: this.state === 'waiting' ? iso(this.nextAttemptAt) : null,
      lastError: this.lastError,
      errors: { ...this.errorCounts },
      inFlightMessages: this.session?.pending.size ?? 0,
      readingsSent: this.sender.readingsSent,
      certificate: cert ? { commonName: cert.commonName ?? null, validTo: iso(cert.validTo) } : null,
    };
  }

  /** Publishes a control message (QoS 1; `<prefix>/<gatewayId>/<topicSuffix>` on the generic topic tree); resolves on a successful PUBACK. Rejects when not connected. */
  publishControl(topicSuffix: string, payload: string | Uint8Array | object): Promise<void> {
    const body = typeof payload === 'string' || payload instanceof Uint8Array ? Buffer.from(payload) : Buffer.from(JSON.stringify(payload));
    const message = this.wire.control(topicSuffix, body);
    const session = this.session;
    if (!session?.open) return Promise.reject(new UplinkError('connection-lost', `cannot publish to "${message.topic}": the uplink is not connected`));
    return this.publishAsync(session, message).then(() => this.metrics.messages.inc({ type: 'control' }));
  }

  /** Receives control messages under `topicSuffix` (wildcards allowed), now and after every reconnect. Returns an unsubscribe function. */
  onControl(topicSuffix: string, handler: ControlHandler): () => void {
    return this.controls.add(topicSuffix, handler);
  }

  /**
   * Drops the current connection and connects again with freshly read credentials. Resolves once
   * connected; rejects with the classified UplinkError if that attempt fails (the uplink then goes
   * on retrying with backoff).
   */
  reconnect(): Promise<void> {
    if (!this.loopDone || this.stopping) return Promise.reject(new UplinkError('connection-lost', 'the uplink is not running'));
    const connected = this.waiters.wait(this.attemptsStarted);
    this.immediateAttempt = true;
    this.cancelSleep?.();
    this.session?.end(undefined);
    return connected;
  }

  private async loop(): Promise<void> {
    while (!this.stopping) {
      const attempt = ++this.attemptsStarted;
      this.immediateAttempt = false;
      this.state = 'connecting';
      let session: Session | undefined;
      let notBefore = 0;
      try {
        session = await this.connectOnce();
      } catch (error) {
        const classified = error instanceof UplinkError ? error : classifyConnectError(error, this.context());
        if (!this.stopping) this.recordError(classified);
        this.waiters.settle(attempt, classified);
        if (classified instanceof HeldUplinkError) notBefore = classified.retryAt;
      }
      if (session) {
        this.waiters.settle(attempt);
        if (this.immediateAttempt || this.stopping) session.end(undefined);
        const reason = await session.ended;
        this.teardown(session);
        if (reason) this.recordError(reason);
        else if (!this.stopping) this.deps.log.info('uplink disconnected');
      }
      if (this.stopping) break;
      if (this.immediateAttempt) continue;
      const delay = Math.max(this.backoff.nextDelay(this.deps.clock.now()), notBefore - this.deps.clock.now());
      this.state = 'waiting';
      this.nextAttemptAt = this.deps.clock.now() + delay;
      this.deps.log.info({ retryInMs: delay }, 'uplink will retry');
      await this.sleep(delay);
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
    return { url: this.broker, gatewayId: this.deps.gatewayId, now: this.deps.clock.now(), ...(this.clientOptions.cert ? { cert: this.clientOptions.cert } : {}) };
  }

  private recordError(error: UplinkError): void {
    this.errorCounts[error.kind] = (this.errorCounts[error.kind] ?? 0) + 1;
    this.metrics.errors.inc({ kind: error.kind });
    this.lastError = { kind: error.kind, message: error.message, at: new Date(this.deps.clock.now()).toISOString() };
    this.deps.log.error({ kind: error.kind, code: error.code }, `uplink: ${error.message}`);
  }

  private bufferDepth(): number | null {
    try {
      return this.deps.buffer.stats(this.deps.clock.now()).depth;
    } catch {
      return null;
    }
  }

  /** Connects, subscribes and announces itself online; throws a classified UplinkError on any failure. */
  private async connectOnce(): Promise<Session> {
    const attempt = new AbortController();
    this.abortConnect = () => attempt.abort();
    const session = await openSession({
      url: this.deps.config.url,
      options: await this.clientOptions.build(this.wire.offline(this.deps.version)),
      protocolVersion: this.deps.config.protocolVersion,
      inFlightWindow: Math.min(this.deps.config.inFlight, this.limits.maxInFlight ?? Number.POSITIVE_INFINITY),
      ...(this.limits.maxPacketBytes && { maximumPacketSize: this.limits.maxPacketBytes }),
      clock: this.deps.clock,
      context: () => this.context(),
      onMessage: (session, topic, payload, packet) => this.onMessage(session, topic, payload, packet),
      watchStream: (stream) => this.clientOptions.tlsSession?.watch(stream),
      signal: attempt.signal,
    });
    this.abortConnect = undefined;
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
    this.deps.log.info({ broker: this.broker, certificateCn: this.clientOptions.cert?.commonName, inFlightWindow: session.inFlightWindow }, 'uplink connected');
    this.statusTimer = setInterval(() => void this.publishStatus(session).catch(() => undefined), this.deps.config.statusIntervalMs);
    this.sender.begin();
    return session;
  }

  private subscribe(session: Session): Promise<void> {
    const filters = [...this.wire.subscriptions(), ...this.controls.filters()];
    return new Promise((resolve, reject) => {
      session.client.subscribe(filters, { qos: 1 }, (error, granted) => {
        if (error) return reject(error);
        const refused = (granted ?? []).filter((g) => g.qos >= 0x80);
        if (refused.length > 0) return reject(classifySubackRefusal(refused, this.context()));
        resolve();
      });
    });
  }

  private async publishStatus(session: Session): Promise<void> {
    if (!session.open) return;
    const status = this.wire.status({ version: this.deps.version, bufferDepth: this.bufferDepth(), alerts: this.deps.alerts?.counts() ?? null, now: this.deps.clock.now() });
    await this.publishAsync(session, status);
    this.metrics.messages.inc({ type: 'status' });
  }

  private publishAsync(session: Session, { topic, payload, ...options }: OutboundMessage, timeoutMs?: number): Promise<void> {
    return session.publishAsync(topic, payload, { ...options, ...(timeoutMs !== undefined && { timeoutMs }) });
  }

  private onMessage(session: Session, topic: string, payload: Buffer, packet: IPublishPacket): void {
    const request = this.wire.inbound(topic, payload, packet);
    if (request?.kind === 'command') this.commands.handle(session, request);
    else if (request?.kind === 'control') this.controls.dispatch(request.payload, request.suffix);
  }

  /** Waits for the PUBACK of everything pending (readings and control messages alike), then says goodbye and offline. */
  private async closeGracefully(session: Session): Promise<void> {
    this.sender.stopPolling();
    await session.settled(STOP_DRAIN_MS);
    const farewell = this.wire.farewell?.(this.deps.version, this.sender.announcedSensors) ?? [];
    const goodbye = [...farewell, this.wire.offline(this.deps.version)];
    if (session.open) await Promise.all(goodbye.map((message) => this.publishAsync(session, message, STOP_DRAIN_MS))).catch(() => undefined);
    session.end(undefined);
  }

  /** Releases a finished session: flushes acks, returns everything unacknowledged to the buffer. */
  private teardown(session: Session): void {
    this.sender.release(session);
    clearInterval(this.statusTimer);
    this.statusTimer = undefined;
    session.client.end(this.stopping ? false : true);
    if (this.session === session) this.session = undefined;
    this.metrics.connected.set(0);
  }
}

