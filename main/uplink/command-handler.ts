import type { IPublishPacket } from 'mqtt';
import type { Logger } from '../log/logger.js';
import type { Clock } from '../shared/clock.js';
import { MAX_COMMAND_BYTES } from '../shared/config/cloud.js';
import { parseCommand, type Command } from './commands.js';
import type { Session } from './session.js';
import type { Topics } from './topics.js';

export interface CommandHandlerDeps {
  topics: Topics;
  protocolVersion: 4 | 5;
  version: string;
  log: Logger;
  clock: Clock;
  bufferDepth: () => number | null;
  /** Runs the `flush` command: send the backlog ignoring the rate cap. */
  flush: () => void;
}

/** Validates and runs inbound `…/cmd/<name>` commands and publishes each one's result. */
export class CommandHandler {
  constructor(private readonly deps: CommandHandlerDeps) {}

  handle(session: Session, name: string, payload: Buffer, packet: IPublishPacket): void {
    const parsed =
      payload.length > MAX_COMMAND_BYTES
        ? { ok: false as const, error: `command "${name}": payload larger than ${MAX_COMMAND_BYTES} bytes` }
        : parseCommand(name, payload);
    const responseTopic = packet.properties?.responseTopic;
    // Answering on any topic the request names would let a command make the gateway publish anywhere the broker allows.
    const badResponseTopic =
      responseTopic !== undefined && !this.deps.topics.isOwnTopicName(responseTopic)
        ? `command "${name}": response topic ${JSON.stringify(responseTopic)} refused: it must be a topic under "${this.deps.topics.base}/" without wildcards`
        : undefined;
    if (!parsed.ok || badResponseTopic) {
      const id = parsed.ok ? parsed.command.id : parsed.id;
      const error = badResponseTopic ?? (parsed.ok ? '' : parsed.error);
      this.deps.log.warn({ command: name, error }, 'uplink: rejected inbound command');
      this.reply(session, name, packet, { ...(id ? { id } : {}), command: name, ok: false, error });
      return;
    }
    this.deps.log.info({ command: parsed.command.name, id: parsed.command.id }, 'uplink: command received');
    this.reply(session, name, packet, { ...(parsed.command.id ? { id: parsed.command.id } : {}), command: name, ok: true, result: this.run(parsed.command) });
  }

  private run(command: Command): Record<string, unknown> {
    const bufferDepth = this.deps.bufferDepth();
    if (command.name === 'flush') {
      this.deps.flush();
      return { bufferDepth, flushing: true };
    }
    return { version: this.deps.version, bufferDepth, ts: new Date(this.deps.clock.now()).toISOString() };
  }

  /**
   * Replies on the MQTT 5 response topic when the request named one under the gateway's own
   * prefix, else on `…/cmd-result/<name>`.
   */
  private reply(session: Session, name: string, request: IPublishPacket, body: Record<string, unknown>): void {
    if (!session.open) return;
    const responseTopic = request.properties?.responseTopic;
    const correlationData = request.properties?.correlationData;
    const topic = responseTopic !== undefined && this.deps.topics.isOwnTopicName(responseTopic) ? responseTopic : this.deps.topics.commandResult(name);
    const properties = this.deps.protocolVersion === 5 && correlationData ? { properties: { correlationData } } : {};
    session.publishAsync(topic, Buffer.from(JSON.stringify(body)), properties).catch((error: unknown) => this.deps.log.warn({ topic, err: error }, 'uplink: could not publish a command result'));
  }
}
