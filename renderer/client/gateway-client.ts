import type { ApiErrorBody, ApiEvent, MethodInput, MethodName, MethodResult } from '../../main/shared/api.js';

export type ConnectionState = 'connecting' | 'open' | 'lost';

/** The UI's one door to the gateway: HTTP + WebSocket in a browser, the preload's functions in Electron. */
export interface GatewayClient {
  call<M extends MethodName>(method: M, input: MethodInput<M>): Promise<MethodResult<M>>;
  /** Streams an OTA bundle to staging; `onProgress` sees the bytes sent so far. */
  uploadBundle(file: File, onProgress: (sent: number, total: number) => void): Promise<MethodResult<'uploadBundle'>>;
  /** Live events; reconnects on its own and reports the connection so the UI can resync. */
  subscribe(onEvent: (event: ApiEvent) => void, onConnection: (state: ConnectionState) => void): () => void;
}

/** A failure the API answered with (`ApiErrorBody`), or a transport failure (`kind: 'unavailable'`). */
export class GatewayError extends Error {
  constructor(readonly body: ApiErrorBody) {
    super(body.message);
    this.name = 'GatewayError';
  }

  get kind(): ApiErrorBody['error'] {
    return this.body.error;
  }
}

export function isGatewayError(error: unknown, kind?: ApiErrorBody['error']): error is GatewayError {
  return error instanceof GatewayError && (kind === undefined || error.kind === kind);
}
