import { z } from 'zod';
import { filePath, identifier } from './common.js';

export const gatewaySchema = z.strictObject({
  /** Must equal the CN of the device certificate: the broker's ACL confines the gateway to it. */
  id: identifier,
  dataDir: filePath.describe('Where the buffer, identity and OTA state live'),
});

export const logSchema = z
  .strictObject({
    level: z.enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace']).default('info'),
  })
  .default({ level: 'info' });

const LOOPBACK_HOSTS = new Set(['127.0.0.1', '::1', 'localhost']);

export function isLoopbackHost(host: string): boolean {
  return LOOPBACK_HOSTS.has(host) || host.startsWith('127.');
}

export const uiSchema = z
  .strictObject({
    enabled: z.boolean().default(true),
    host: z.string().min(1).default('127.0.0.1').describe('Loopback by default'),
    port: z.number().int().min(0).max(65535).default(8080),
    /** File holding the access token; required when the UI listens beyond loopback. */
    tokenFile: filePath.optional(),
  })
  .superRefine((ui, ctx) => {
    if (!isLoopbackHost(ui.host) && !ui.tokenFile) {
      ctx.addIssue({
        code: 'custom',
        path: ['tokenFile'],
        input: undefined,
        message: `ui.host "${ui.host}" is reachable from the network: set ui.tokenFile to a file holding a long random token (e.g. openssl rand -hex 32 > token), or listen on 127.0.0.1`,
      });
    }
  })
  .prefault({});
