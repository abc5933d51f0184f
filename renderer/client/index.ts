import type { GatewayClient } from './gateway-client.js';
import { httpClient } from './http-client.js';
import { ipcClient } from './ipc-client.js';

/** In the Electron window the preload provides `window.fieldgate`; a browser talks HTTP. */
export const gateway: GatewayClient = window.fieldgate ? ipcClient(window.fieldgate) : httpClient();

export { GatewayError, isGatewayError, type ConnectionState } from './gateway-client.js';
