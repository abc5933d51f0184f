import type { Logger } from '../log/logger.js';
import type { Clock } from '../shared/clock.js';
import { MAX_COMMAND_BYTES } from '../shared/config/cloud.js';
import { parseCommand, type Command } from './commands.js';
import type { CommandRequest } from './profiles/wire.js';
import type { Session } from './session.js';

export interface CommandHandlerDeps {
  version: string;
  log: Logger;
  clock: Clock;
  bufferDepth: () => number | null;
  /** Runs the `flush` command: send the backlog ignoring the rate cap. */
  flush: () => void;
}

/** Validates and runs inbound commands, whatever platform shape they came in, and publishes each one's result. */
export class CommandHandler {
  constructor(private readonly deps: CommandHandlerDeps) {}

  handle(session: Session, request: CommandRequest): void {
    const { name, payload } = request;
    const parsed =
      payload.length > MAX_COMMAND_BYTES
        ? { ok: false as const, error: `command "${name}": payload larger than ${MAX_COMMAND_BYTES} bytes` }
        : parseCommand(name, payload);
    if (!parsed.ok || request.refused) {
      const id = parsed.ok ? parsed.command.id : parsed.id;
      const error = request.refused ?? (parsed.ok ? '' : parsed.error);
      this.deps.log.warn({ command: name, error }, 'uplink: rejected inbound command');
      this.reply(session, request, { ...(id ? { id } : {}), command: name, ok: false, error });
      return;
    }
    this.deps.log.info({ command: parsed.command.name, id: parsed.command.id }, 'uplink: command received');
    this.reply(session, request, { ...(parsed.command.id ? { id: parsed.command.id } : {}), command: name, ok: true, result: this.run(parsed.command) });
  }

  private run(command: Command): Record<string, unknown> {
    const bufferDepth = this.deps.bufferDepth();
    if (command.name === 'flush') {
      this.deps.flush();
      return { bufferDepth, flushing: true };
    }
    return { version: this.deps.version, bufferDepth, ts: new Date(this.deps.clock.now()).toISOString() };
  }

  private reply(session: Session, request: CommandRequest, body: Parameters<CommandRequest['reply']>[0]): void {
    if (!session.open) return;
    const { topic, payload, ...options } = request.reply(body);
    session.publishAsync(topic, payload, options).catch((error: unknown) => this.deps.log.warn({ topic, err: error }, 'uplink: could not publish a command result'));
  }
}
