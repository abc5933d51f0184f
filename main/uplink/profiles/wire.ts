import type { IClientOptions, IClientPublishOptions, IPublishPacket } from 'mqtt';
import type { LeasedReading } from '../../buffer/types.js';
import type { AlertSeverity } from '../../shared/alert.js';

/** One message the uplink publishes (QoS 1). */
export interface OutboundMessage {
  topic: string;
  payload: Buffer;
  retain?: boolean;
  properties?: IClientPublishOptions['properties'];
}

/** What the gateway reports as its status while connected. */
export interface StatusFacts {
  version: string;
  bufferDepth: number | null;
  alerts: Record<AlertSeverity, number> | null;
  now: number;
}

/** A command request in the platform's shape, reduced to what the command handler validates and runs. */
export interface CommandRequest {
  kind: 'command';
  name: string;
  /** The command's JSON body (`{}` or `{"id":"…"}` and the command's own fields). */
  payload: Buffer;
  /** Why the request is refused before its body is looked at (e.g. a reply topic outside the gateway's own). */
  refused?: string;
  /** The message that answers the request with `body`. */
  reply(body: CommandResultBody): OutboundMessage;
}

export interface CommandResultBody {
  id?: string;
  command: string;
  ok: boolean;
  error?: string;
  result?: Record<string, unknown>;
}

/** An inbound message for a control handler (e.g. certificate rotation's `cert/issued`), by its suffix. */
export interface ControlRequest {
  kind: 'control';
  suffix: string;
  payload: Buffer;
}

/**
 * How one platform's topics and payloads carry the gateway's messages: readings, alerts, status,
 * commands and control messages. The buffer, the at-least-once contract and the per-sensor seq
 * are the same on every platform; only this mapping differs.
 */
export interface PlatformWire {
  /** Connect options the platform requires beyond TLS (client id, user name, MQTT version). */
  connectOptions(): Promise<Pick<IClientOptions, 'clientId' | 'username' | 'password'>>;
  readingsTopic(sensorId: string): string;
  /** The payload of one readings message: readings of one sensor, in lease order. */
  encodeReadings(sensorId: string, readings: readonly LeasedReading[]): Buffer;
  /** Sent once per connection before a sensor's first readings message, on platforms that want to be told a device is there. */
  sensorOnline?(sensorId: string): OutboundMessage;
  /** An alert event (raise, clear, or a drop record), JSON. */
  alert(payload: Buffer): OutboundMessage;
  status(facts: StatusFacts): OutboundMessage;
  /** The offline status: the MQTT will, and the last message of a graceful stop. */
  offline(version: string): OutboundMessage;
  /**
   * Messages a graceful stop sends before `offline`, on platforms where the will alone does not
   * tell everything (ThingsBoard's sensor disconnects, IoT Hub's twin status). `sensors`: those
   * `sensorOnline` announced on this connection.
   */
  farewell?(version: string, sensors: readonly string[]): OutboundMessage[];
  /** Topic filters for commands (and platform responses), subscribed to on every connection. */
  subscriptions(): string[];
  /**
   * The topic filter to subscribe to for control messages under `suffixFilter` (wildcards allowed),
   * or undefined where they arrive through `subscriptions()` (e.g. as a platform's RPC).
   */
  controlFilter(suffixFilter: string): string | undefined;
  /** What an inbound message asks for, or undefined when it is nothing the gateway handles. */
  inbound(topic: string, payload: Buffer, packet: IPublishPacket): CommandRequest | ControlRequest | undefined;
  /** A control message under `<suffix>` (e.g. `cert/csr`). */
  control(suffix: string, payload: Buffer): OutboundMessage;
}
