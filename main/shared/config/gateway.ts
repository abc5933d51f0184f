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

export const uiSchema = z
  .strictObject({
    enabled: z.boolean().default(true),
    host: z.string().min(1).default('127.0.0.1').describe('Loopback by default; set 0.0.0.0 only behind a firewall'),
    port: z.number().int().min(0).max(65535).default(8080),
  })
  .default({ enabled: true, host: '127.0.0.1', port: 8080 });
