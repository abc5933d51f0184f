import { z } from 'zod';

/**
 * One schema per IPC message: the arguments the renderer may send. Kept in step with the
 * preload's one-function-per-method bridge and with GatewayApi.
 */
export const ipcChannels = {
  'fieldgate:status': z.tuple([]),
} as const;

export type IpcChannel = keyof typeof ipcChannels;

export function parseIpcArguments(channel: string, args: unknown[]): { channel: IpcChannel; args: unknown[] } {
  if (!(channel in ipcChannels)) throw new Error(`unknown IPC channel "${channel}"`);
  const schema = ipcChannels[channel as IpcChannel];
  const parsed = schema.safeParse(args);
  if (!parsed.success) throw new Error(`invalid arguments for "${channel}": ${parsed.error.issues[0]?.message ?? 'rejected'}`);
  return { channel: channel as IpcChannel, args: parsed.data };
}
