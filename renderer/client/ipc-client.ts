import type { ApiEvent, IpcReply, MethodInput, MethodName, MethodResult } from '../../main/shared/api.js';
import { GatewayError, type GatewayClient } from './gateway-client.js';

/** What preload/index.cts exposes as `window.fieldgate`: one function per method, plus events and the upload. */
export type FieldgateBridge = { [M in Exclude<MethodName, 'uploadBundle'>]: (input: MethodInput<M>) => Promise<IpcReply<MethodResult<M>>> } & {
  onEvent(listener: (event: ApiEvent) => void): () => void;
  /** Sends the file in chunks; resolves when the backend has stored it. */
  uploadBundle(input: MethodInput<'uploadBundle'>, file: Blob): Promise<IpcReply<MethodResult<'uploadBundle'>>>;
};

declare global {
  interface Window {
    fieldgate?: FieldgateBridge;
  }
}

function unwrap<R>(reply: IpcReply<R>): R {
  if (reply.ok) return reply.result;
  throw new GatewayError(reply.error);
}

/** The Electron transport: the same methods through the preload bridge; the main process checks sender, schema and role. */
export function ipcClient(bridge: FieldgateBridge): GatewayClient {
  return {
    async call(method, input) {
      const invoke = bridge[method as Exclude<MethodName, 'uploadBundle'>] as (input: unknown) => Promise<IpcReply<MethodResult<typeof method>>>;
      return unwrap(await invoke(input)) as never;
    },
    async uploadBundle(file, onProgress) {
      // The preload streams chunk by chunk without reporting each; the bar jumps when it is stored.
      onProgress(0, file.size);
      const stored = unwrap(await bridge.uploadBundle({ fileName: file.name }, file));
      onProgress(file.size, file.size);
      return stored;
    },
    subscribe(onEvent, onConnection) {
      onConnection('open');
      return bridge.onEvent(onEvent);
    },
  };
}
