import type { IPublishPacket } from 'mqtt';
import type { LeasedReading } from '../../buffer/types.js';
import type { CloudConfig } from '../../shared/config/cloud.js';
import { encodeReadings, offlineStatus, onlineStatus } from '../messages.js';
import { Topics } from '../topics.js';
import type { CommandRequest, ControlRequest, OutboundMessage, PlatformWire, StatusFacts } from './wire.js';

/**
 * The README's topic tree under `<prefix>/<gatewayId>/`: readings per sensor, alerts, a retained
 * status (also the will), commands on `cmd/<name>` answered on `cmd-result/<name>` or on the MQTT 5
 * response topic, and control topics. Used by `generic` and `aws-iot-core`.
 */
export class GenericWire implements PlatformWire {
  private readonly topics: Topics;

  constructor(private readonly deps: { config: Pick<CloudConfig, 'topicPrefix' | 'clientId' | 'protocolVersion'>; gatewayId: string }) {
    this.topics = new Topics(deps.config.topicPrefix, deps.gatewayId);
  }

  async connectOptions(): Promise<{ clientId: string }> {
    return { clientId: this.deps.config.clientId ?? this.deps.gatewayId };
  }

  readingsTopic(sensorId: string): string {
    return this.topics.readings(sensorId);
  }

  encodeReadings(_sensorId: string, readings: readonly LeasedReading[]): Buffer {
    return encodeReadings(readings);
  }

  alert(payload: Buffer): OutboundMessage {
    return { topic: this.topics.alerts, payload };
  }

  status(facts: StatusFacts): OutboundMessage {
    return { topic: this.topics.status, payload: onlineStatus(facts.version, facts.bufferDepth, facts.alerts, facts.now), retain: true };
  }

  offline(version: string): OutboundMessage {
    return { topic: this.topics.status, payload: offlineStatus(version), retain: true };
  }

  subscriptions(): string[] {
    return [this.topics.commands];
  }

  controlFilter(suffixFilter: string): string {
    return this.topics.control(suffixFilter);
  }

  control(suffix: string, payload: Buffer): OutboundMessage {
    return { topic: this.topics.control(suffix), payload };
  }

  inbound(topic: string, payload: Buffer, packet: IPublishPacket): CommandRequest | ControlRequest | undefined {
    const name = this.topics.commandName(topic);
    if (name !== undefined) return this.command(name, payload, packet);
    if (!topic.startsWith(`${this.topics.base}/`)) return undefined;
    return { kind: 'control', suffix: topic.slice(this.topics.base.length + 1), payload };
  }

  /**
   * Answers on the MQTT 5 response topic when the request names one under the gateway's own
   * prefix, else on `…/cmd-result/<name>`. Answering on any topic the request names would let a
   * command make the gateway publish anywhere the broker allows.
   */
  private command(name: string, payload: Buffer, packet: IPublishPacket): CommandRequest {
    const responseTopic = packet.properties?.responseTopic;
    const ownResponseTopic = responseTopic !== undefined && this.topics.isOwnTopicName(responseTopic);
    const correlationData = packet.properties?.correlationData;
    const properties = this.deps.config.protocolVersion === 5 && correlationData ? { properties: { correlationData } } : {};
    return {
      kind: 'command',
      name,
      payload,
      ...(responseTopic !== undefined &&
        !ownResponseTopic && {
          refused: `command "${name}": response topic ${JSON.stringify(responseTopic)} refused: it must be a topic under "${this.topics.base}/" without wildcards`,
        }),
      reply: (body) => ({ topic: ownResponseTopic ? responseTopic : this.topics.commandResult(name), payload: Buffer.from(JSON.stringify(body)), ...properties }),
    };
  }
}
