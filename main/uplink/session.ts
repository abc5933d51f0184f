import { connect, type IClientOptions, type IPublishPacket, type MqttClient } from 'mqtt';
import type { Clock } from '../shared/clock.js';
import { InboundPacketLimit } from './inbound-limit.js';
import { OWN_MAXIMUM_PACKET_SIZE } from './packet-size.js';
import { UplinkError, classifyConnack, classifyConnectError, classifyDisconnect, type ClassifyContext } from './errors.js';

/** What one unacknowledged publish carries back to the buffer (or the alert queue) if it is never acked. */
export interface InFlight {
  readingIds?: number[];
  readings?: number;
  /** Sensor and payload size of a readings message, to log what is set aside and find a too-large one. */
  sensorId?: string;
  bytes?: number;
  dropRecordId?: number;
  /** Its entry in the alerts outbox. */
  alertOutboxId?: number;
  /** clock.now() at publish, for the PUBACK round trip. */
  publishedAt?: number;
}

/** One MQTT connection. Everything in flight on it is returned to the buffer when it closes. */
export class Session {
  open = true;
  readonly inFlight = new Map<number, InFlight>();
  /** cloud.inFlight, lowered to the broker's MQTT 5 Receive Maximum when it announces one. */
  window = 1;
  /** The broker's MQTT 5 Maximum Packet Size (whole packets, bytes), when it announced one. */
  maximumPacketSize: number | undefined;
  /** The reason code of the DISCONNECT the broker sent, if it sent one (MQTT 5). */
  disconnectReason: number | undefined;
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

export interface OpenSessionDeps {
  /** Where to connect; messages name the broker by `context().url`, which has no credentials. */
  url: string;
  options: IClientOptions;
  protocolVersion: 4 | 5;
  /** cloud.inFlight: the window before the broker's Receive Maximum is applied. */
  inFlight: number;
  clock: Clock;
  context: () => ClassifyContext;
  onMessage: (session: Session, topic: string, payload: Buffer, packet: IPublishPacket) => void;
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
    const code = (error as { code?: unknown }).code;
    if (typeof code === 'number') throw classifyConnack(code, deps.protocolVersion, deps.context());
    throw classifyConnectError(error, deps.context());
  }
  const session = new Session(client, deps.clock.now());
  session.window = Math.max(1, Math.min(deps.inFlight, receiveMaximum ?? Number.POSITIVE_INFINITY));
  session.maximumPacketSize = maximumPacketSize;
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
