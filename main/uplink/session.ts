import { connect, type IClientOptions, type IClientPublishOptions, type IPublishPacket, type MqttClient } from 'mqtt';
import type { Clock } from '../shared/clock.js';
import { OWN_MAXIMUM_PACKET_SIZE } from '../shared/config/cloud.js';
import { InboundPacketLimit } from './inbound-limit.js';
import { UplinkError, classifyConnack, classifyConnectError, classifyDisconnect, classifyPubackRefusal, reasonCodeOf, type ClassifyContext } from './errors.js';

/** What a publish carries back to the buffer (or the alerts outbox) if it is never acknowledged. */
export interface PublishCargo {
  readingIds?: number[];
  /** Sensor and payload size of a readings message, to log what is set aside and find a too-large one. */
  sensorId?: string;
  bytes?: number;
  dropRecordId?: number;
  /** Its entry in the alerts outbox. */
  alertOutboxId?: number;
}

/** One QoS 1 publish waiting for its PUBACK. */
export interface PendingPublish extends PublishCargo {
  topic: string;
  /** clock.now() at publish, for the PUBACK round trip. */
  publishedAt: number;
  /** Called once: no error on a successful PUBACK, else why not (classified; `connection-lost` from `release()`). */
  settle: (error: UplinkError | undefined, entry: PendingPublish) => void;
}

export interface PublishOptions {
  retain?: boolean;
  properties?: IClientPublishOptions['properties'];
  /** Give up waiting for the PUBACK after this long (settles with a `timeout` error). */
  timeoutMs?: number;
}

/** One MQTT connection. Everything unacknowledged on it is settled as lost when it is released. */
export class Session {
  open = true;
  /** Publishes sent and not yet acknowledged, by an id of the session's own. */
  readonly pending = new Map<number, PendingPublish>();
  /** cloud.inFlight, lowered to the broker's MQTT 5 Receive Maximum when it announces one. */
  inFlightWindow = 1;
  /** The broker's MQTT 5 Maximum Packet Size (whole packets, bytes), when it announced one. */
  maximumPacketSize: number | undefined;
  /** The reason code of the DISCONNECT the broker sent, if it sent one (MQTT 5). */
  disconnectReason: number | undefined;
  readonly ended: Promise<UplinkError | undefined>;
  private finish!: (reason: UplinkError | undefined) => void;
  private lastPublishId = 0;
  private settledAll: (() => void) | undefined;

  constructor(
    readonly client: MqttClient,
    readonly since: number,
    private readonly deps: { clock: Clock; context: () => ClassifyContext },
  ) {
    this.ended = new Promise((resolve) => (this.finish = resolve));
  }

  end(reason: UplinkError | undefined): void {
    if (!this.open) return;
    this.open = false;
    this.finish(reason);
  }

  /**
   * The one way to publish: QoS 1, tracked in `pending` until its PUBACK, then `settle`d with the
   * classified refusal or failure, if any.
   */
  publish(topic: string, payload: Buffer, cargo: PublishCargo, settle: PendingPublish['settle'], options: PublishOptions = {}): void {
    const id = ++this.lastPublishId;
    this.pending.set(id, { ...cargo, topic, publishedAt: this.deps.clock.now(), settle });
    const { timeoutMs } = options;
    const timer = timeoutMs === undefined ? undefined : setTimeout(() => this.settle(id, new UplinkError('timeout', `no PUBACK for the publish to "${topic}" within ${timeoutMs} ms`)), timeoutMs);
    const publishOptions: IClientPublishOptions = { qos: 1, retain: options.retain ?? false };
    if (options.properties) publishOptions.properties = options.properties;
    this.client.publish(topic, payload, publishOptions, (error) => {
      if (timer) clearTimeout(timer);
      this.settle(id, error && this.classify(error, topic));
    });
  }

  /** `publish` as a promise: resolves on a successful PUBACK, rejects with the classified error. */
  publishAsync(topic: string, payload: Buffer, options: PublishOptions = {}): Promise<void> {
    return new Promise((resolve, reject) => this.publish(topic, payload, {}, (error) => (error ? reject(error) : resolve()), options));
  }

  /** Resolves once nothing is pending, the connection ended, or `timeoutMs` passed. */
  async settled(timeoutMs: number): Promise<void> {
    if (this.pending.size === 0 || !this.open) return;
    let timer: NodeJS.Timeout | undefined;
    const allSettled = new Promise<void>((resolve) => {
      this.settledAll = resolve;
      timer = setTimeout(resolve, timeoutMs);
    });
    await Promise.race([allSettled, this.ended]);
    clearTimeout(timer);
    this.settledAll = undefined;
  }

  /** The connection ended: settles everything still pending as lost; PUBACKs that come after are ignored. */
  release(): void {
    for (const [id, entry] of [...this.pending]) {
      this.settle(id, new UplinkError('connection-lost', `the connection ended before the broker acknowledged the publish to "${entry.topic}"`));
    }
  }

  private settle(id: number, error: UplinkError | undefined): void {
    const entry = this.pending.get(id);
    if (!entry) return; // released, or timed out
    this.pending.delete(id);
    entry.settle(error, entry);
    if (this.pending.size === 0) this.settledAll?.();
  }

  private classify(error: Error, topic: string): UplinkError {
    const code = reasonCodeOf(error);
    return code === undefined ? classifyConnectError(error, this.deps.context()) : classifyPubackRefusal(code, topic, this.deps.context());
  }
}

export interface OpenSessionDeps {
  /** Where to connect; messages name the broker by `context().url`, which has no credentials. */
  url: string;
  options: IClientOptions;
  protocolVersion: 4 | 5;
  /** cloud.inFlight: the in-flight window before the broker's Receive Maximum is applied. */
  inFlightWindow: number;
  clock: Clock;
  context: () => ClassifyContext;
  onMessage: (session: Session, topic: string, payload: Buffer, packet: IPublishPacket) => void;
  /** The cloud profile's cap on PUBLISH packet size, used as the broker's Maximum Packet Size when that is larger or not announced. */
  maximumPacketSize?: number;
  /** Sees the transport stream as soon as it exists (before the TLS handshake). */
  watchStream?: (stream: unknown) => void;
  /** Aborted when the uplink stops while this connect is under way. */
  signal: AbortSignal;
}

/**
 * Connects and waits for the CONNACK; throws a classified UplinkError when that fails. The session
 * ends, with the classified reason, when the connection closes.
 */
export async function openSession(deps: OpenSessionDeps): Promise<Session> {
  const client = connect(deps.url, deps.options);
  deps.watchStream?.(client.stream);
  let firstError: unknown;
  client.on('error', (error) => {
    firstError ??= error;
  });
  const inbound = new InboundPacketLimit(OWN_MAXIMUM_PACKET_SIZE);
  // Set when the broker started a packet over our limit; it explains the close, whatever mqtt.js reports then.
  let tooLarge: UplinkError | undefined;
  client.stream.on('data', (chunk: Buffer) => {
    const size = inbound.feed(chunk);
    if (size === undefined || tooLarge) return;
    tooLarge = new UplinkError(
      'packet-too-large',
      `${deps.context().url} sent a packet of ${size} bytes, over the gateway's limit of ${OWN_MAXIMUM_PACKET_SIZE}: the connection was dropped before reading it`,
    );
    client.stream.destroy();
  });
  let closedEarly: (() => void) | undefined;
  let receiveMaximum: number | undefined;
  let maximumPacketSize: number | undefined;
  try {
    await new Promise<void>((resolve, reject) => {
      const abort = () => reject(new UplinkError('connection-lost', 'the uplink stopped while connecting'));
      deps.signal.addEventListener('abort', abort, { once: true });
      if (deps.signal.aborted) abort();
      closedEarly = () => reject(tooLarge ?? firstError ?? new UplinkError('connection-lost', `${deps.context().url} closed the connection before it was established`));
      client.once('connect', (connack) => {
        receiveMaximum = connack.properties?.receiveMaximum;
        maximumPacketSize = connack.properties?.maximumPacketSize;
        resolve();
      });
      client.once('close', closedEarly);
    });
  } catch (error) {
    client.end(true);
    if (deps.signal.aborted) throw new UplinkError('connection-lost', 'the uplink stopped while connecting');
    const code = reasonCodeOf(error);
    if (code !== undefined) throw classifyConnack(code, deps.protocolVersion, deps.context());
    throw classifyConnectError(error, deps.context());
  }
  const session = new Session(client, deps.clock.now(), deps);
  session.inFlightWindow = Math.max(1, Math.min(deps.inFlightWindow, receiveMaximum ?? Number.POSITIVE_INFINITY));
  session.maximumPacketSize = deps.maximumPacketSize === undefined ? maximumPacketSize : Math.min(deps.maximumPacketSize, maximumPacketSize ?? Number.POSITIVE_INFINITY);
  if (closedEarly) client.removeListener('close', closedEarly);
  client.on('disconnect', (packet) => {
    session.disconnectReason ??= packet.reasonCode;
  });
  client.on('close', () => {
    const { disconnectReason } = session;
    if (disconnectReason !== undefined && disconnectReason !== 0) session.end(classifyDisconnect(disconnectReason, deps.context()));
    else if (tooLarge) session.end(tooLarge);
    else session.end(firstError ? classifyConnectError(firstError, deps.context()) : new UplinkError('connection-lost', `the connection to ${deps.context().url} was lost`));
  });
  client.on('error', (error) => {
    firstError = error;
  });
  client.on('message', (topic, payload, packet) => deps.onMessage(session, topic, payload, packet));
  return session;
}
