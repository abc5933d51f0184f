import { ApiClientError, createApiClient } from '../../main/shared/api-client.js';
import type { ApiErrorBody } from '../../main/shared/api.js';

/** The UI's one door to the gateway: HTTP + the event WebSocket in a browser, the preload bridge in Electron. */
export const gateway = createApiClient();

export function isGatewayError(error: unknown, kind?: ApiErrorBody['error']): error is ApiClientError {
  return error instanceof ApiClientError && (kind === undefined || error.kind === kind);
}

