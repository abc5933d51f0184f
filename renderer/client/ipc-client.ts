import type { ApiEvent, IpcReply, MethodInput, MethodName, MethodResult } from '../../main/shared/api.js';
import { GatewayError, type GatewayClient } from './gateway-client.js';

/** What preload/index.cts exposes as `window.fieldgate`: one function per method, plus events and the upload. */
export type FieldgateBridge = { [M in MethodName]: (input: MethodInput<M>) => Promise<IpcReply<MethodResult<M>>> } & {
  onEvent(listener: (event: ApiEvent) => void): () => void;
  uploadBundleFile(file: File, onProgress: (sent: number, total: number) => void): Promise<IpcReply<MethodResult<'uploadBundle'>>>;
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
      const invoke = bridge[method] as (input: unknown) => Promise<IpcReply<MethodResult<typeof method>>>;
      return unwrap(await invoke(input)) as never;
    },
    async uploadBundle(file, onProgress) {
      return unwrap(await bridge.uploadBundleFile(file, onProgress));
    },
    subscribe(onEvent, onConnection) {
      onConnection('open');
      return bridge.onEvent(onEvent);
    },
  };
}
