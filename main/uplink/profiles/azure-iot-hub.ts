import type { IPublishPacket } from 'mqtt';
import type { LeasedReading } from '../../buffer/types.js';
import type { Logger } from '../../log/logger.js';
import { AZURE_IOT_HUB, urlHost } from '../../shared/config/cloud-profile-azure.js';
import type { CloudConfig } from '../../shared/config/cloud.js';
import { encodeReadings, offlineStatus, offlineStatusFields, onlineStatusFields } from '../messages.js';
import type { CommandRequest, ControlRequest, OutboundMessage, PlatformWire, StatusFacts } from './wire.js';

/** System properties of every telemetry message: JSON in UTF-8, so IoT Hub routing can query the body. */
const JSON_BODY = '$.ct=application%2Fjson&$.ce=utf-8';

/** RFC 2396 encoding of a property name or value, as IoT Hub's property bag wants it (encodeURIComponent leaves exactly RFC 2396's unreserved characters). */
const encode = encodeURIComponent;

function decode(text: string): string {
  try {
    return decodeURIComponent(text);
  } catch {
    return text;
  }
}

/** The properties of a property bag (`a=1&b&c=x%20y`, optionally after a `?`), raw as they appear in the topic. */
function rawProperties(bag: string): Map<string, string> {
  const properties = new Map<string, string>();
  for (const pair of bag.replace(/^\?/, '').split('&')) {
    if (pair === '') continue;
    const equals = pair.indexOf('=');
    properties.set(decode(equals < 0 ? pair : pair.slice(0, equals)), equals < 0 ? '' : pair.slice(equals + 1));
  }
  return properties;
}

const METHOD_REQUEST = /^\$iothub\/methods\/POST\/([^/]+)\/(\?.*)?$/;
const TWIN_RESPONSE = /^\$iothub\/twin\/res\/(\d+)\/(\?.*)?$/;

/**
 * Azure IoT Hub's MQTT device API: telemetry on `devices/<id>/messages/events/<property bag>`
 * (readings, alerts, the offline status, command results and outgoing control messages, told
 * apart by the `type` property), the status as the reported twin property `status`, commands as
 * direct methods or cloud-to-device messages with a `command` property, and incoming control
 * messages as cloud-to-device messages with a `control` property. IoT Hub keeps no retained
 * messages, so nothing is published retained.
 */
export class AzureIotHubWire implements PlatformWire {
  private readonly events: string;
  private readonly devicebound: string;
  private lastRequestId = 0;

  constructor(private readonly deps: { config: Pick<CloudConfig, 'url'>; gatewayId: string; log: Logger }) {
    this.events = `devices/${deps.gatewayId}/messages/events/`;
    this.devicebound = `devices/${deps.gatewayId}/messages/devicebound/`;
  }

  /** Client id = device id; user name `{hub host}/{device id}/?api-version=…`; no password (the X.509 certificate authenticates). */
  async connectOptions(): Promise<{ clientId: string; username: string }> {
    const { gatewayId, config } = this.deps;
    return { clientId: gatewayId, username: `${urlHost(config.url)}/${gatewayId}/?api-version=${AZURE_IOT_HUB.apiVersion}` };
  }

  readingsTopic(sensorId: string): string {
    return this.telemetryTopic({ type: 'readings', sensor: sensorId });
  }

  encodeReadings(_sensorId: string, readings: readonly LeasedReading[]): Buffer {
    return encodeReadings(readings);
  }

  alert(payload: Buffer): OutboundMessage {
    return { topic: this.telemetryTopic({ type: 'alert' }), payload };
  }

  /** The reported property `status` of the device twin; IoT Hub answers on `$iothub/twin/res/<status>/?$rid=…`. */
  status(facts: StatusFacts): OutboundMessage {
    return this.twinPatch({ status: onlineStatusFields(facts.version, facts.bufferDepth, facts.alerts, facts.now) });
  }

  private twinPatch(reported: Record<string, unknown>): OutboundMessage {
    return { topic: `$iothub/twin/PATCH/properties/reported/?$rid=${++this.lastRequestId}`, payload: Buffer.from(JSON.stringify(reported)) };
  }

  /** On a graceful stop the twin's reported `status` says offline too (the will reaches only telemetry). */
  farewell(version: string): OutboundMessage[] {
    return [this.twinPatch({ status: offlineStatusFields(version) })];
  }

  /** A telemetry message (IoT Hub forwards a will sent on the events topic as telemetry, with `iothub-MessageType: Will`). */
  offline(version: string): OutboundMessage {
    return { topic: this.telemetryTopic({ type: 'status' }), payload: offlineStatus(version) };
  }

  /** Three of the five subscriptions IoT Hub allows a device at a time (MQTT support, "Receiving cloud-to-device messages"). */
  subscriptions(): string[] {
    return [`${this.devicebound}#`, '$iothub/methods/POST/#', '$iothub/twin/res/#'];
  }

  /** Control messages arrive as cloud-to-device messages, through `subscriptions()`. */
  controlFilter(): undefined {
    return undefined;
  }

  control(suffix: string, payload: Buffer): OutboundMessage {
    return { topic: this.telemetryTopic({ type: 'control', control: suffix }), payload };
  }

  inbound(topic: string, payload: Buffer, _packet: IPublishPacket): CommandRequest | ControlRequest | undefined {
    if (topic.startsWith(this.devicebound)) return this.cloudToDevice(rawProperties(topic.slice(this.devicebound.length)), payload);
    const method = METHOD_REQUEST.exec(topic);
    if (method) return this.directMethod(decode(method[1] ?? ''), rawProperties(method[2] ?? '').get('$rid'), payload);
    const twin = TWIN_RESPONSE.exec(topic);
    if (twin) this.twinResponse(Number(twin[1]), rawProperties(twin[2] ?? '').get('$rid'));
    return undefined;
  }

  private telemetryTopic(properties: Record<string, string>): string {
    const bag = Object.entries(properties).map(([name, value]) => `${name}=${encode(value)}`);
    return `${this.events}${[...bag, JSON_BODY].join('&')}`;
  }

  /** A direct method, answered on `$iothub/methods/res/<200|400>/?$rid=<the request's>` with the command result. */
  private directMethod(name: string, requestId: string | undefined, payload: Buffer): CommandRequest | undefined {
    if (requestId === undefined) {
      this.deps.log.warn({ method: name }, 'uplink: direct method request without $rid ignored: it cannot be answered');
      return undefined;
    }
    return {
      kind: 'command',
      name,
      // A method invoked without a payload arrives with the body `null`.
      payload: payload.toString().trim() === 'null' ? Buffer.alloc(0) : payload,
      reply: (body) => ({ topic: `$iothub/methods/res/${body.ok ? 200 : 400}/?$rid=${requestId}`, payload: Buffer.from(JSON.stringify(body)) }),
    };
  }

  /** A cloud-to-device message: a command (`command` property, result as telemetry correlated by `$.cid`) or a control message (`control` property). */
  private cloudToDevice(properties: Map<string, string>, payload: Buffer): CommandRequest | ControlRequest | undefined {
    const value = (name: string) => {
      const raw = properties.get(name);
      return raw === undefined ? undefined : decode(raw);
    };
    const control = value('control');
    if (control) return { kind: 'control', suffix: control, payload };
    const command = value('command');
    if (!command) {
      this.deps.log.warn({ messageId: value('$.mid') }, 'uplink: cloud-to-device message without a "command" or "control" property ignored');
      return undefined;
    }
    const messageId = value('$.mid');
    return {
      kind: 'command',
      name: command,
      payload,
      reply: (body) => ({
        topic: this.telemetryTopic({ type: 'command-result', command, ...(messageId !== undefined && { '$.cid': messageId }) }),
        payload: Buffer.from(JSON.stringify(body)),
      }),
    };
  }

  private twinResponse(status: number, requestId: string | undefined): void {
    if (status >= 200 && status < 300) return;
    const meaning = status === 429 ? ' (throttled: the hub takes fewer twin updates per second; raise cloud.statusIntervalMs on a large fleet)' : status === 400 ? ' (malformed)' : '';
    this.deps.log.warn({ status, requestId }, `uplink: IoT Hub refused the status update of the device twin's reported properties with status ${status}${meaning}`);
  }
}
