import { z } from 'zod';

/**
 * Inbound commands on `<prefix>/<gatewayId>/cmd/<name>`, payload JSON. `id` is echoed in the
 * result so the cloud can match answers to requests. Anything not listed here is rejected.
 */
const base = { id: z.string().min(1).max(128).optional() };

export const commandSchemas = {
  ping: z.strictObject(base),
  flush: z.strictObject(base),
} as const;

export type CommandName = keyof typeof commandSchemas;

export type Command = { name: CommandName; id?: string };

export type ParsedCommand = { ok: true; command: Command } | { ok: false; id?: string; error: string };

function idOf(value: unknown): string | undefined {
  if (typeof value !== 'object' || value === null) return undefined;
  const id = (value as { id?: unknown }).id;
  return typeof id === 'string' ? id : undefined;
}

/** Validates one inbound command; the error text says what is allowed. */
export function parseCommand(name: string, payload: Uint8Array): ParsedCommand {
  const text = Buffer.from(payload).toString('utf8').trim();
  let value: unknown = {};
  if (text.length > 0) {
    try {
      value = JSON.parse(text);
    } catch {
      return { ok: false, error: `command "${name}": payload is not JSON; send {} or {"id":"…"}` };
    }
  }
  if (!Object.hasOwn(commandSchemas, name)) {
    return { ok: false, id: idOf(value), error: `unknown command "${name}"; known: ${Object.keys(commandSchemas).join(', ')}` };
  }
  const result = commandSchemas[name as CommandName].safeParse(value);
  if (!result.success) {
    const problems = result.error.issues.map((i) => `${i.path.join('.') || '(payload)'}: ${i.message}`).join('; ');
    return { ok: false, id: idOf(value), error: `command "${name}": ${problems}` };
  }
  return { ok: true, command: { name: name as CommandName, ...(result.data.id ? { id: result.data.id } : {}) } };
}
