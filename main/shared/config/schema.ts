import { z } from 'zod';
import { alertsSchema } from './alerts.js';
import { bleSchema } from './ble.js';
import { bufferSchema } from './buffer.js';
import { cloudSchema } from './cloud.js';
import { checkProfileGateway } from './cloud-profiles.js';
import { gatewaySchema, logSchema, uiSchema } from './gateway.js';
import { identitySchema } from './identity.js';
import { otaSchema } from './ota.js';
import { serialPortsSchema } from './serial.js';
import { simSensorSchema } from './sim.js';

export const sensorsSchema = z
  .strictObject({
    sim: z.array(simSensorSchema).default([]),
    /** Sensors on serial ports: line formats (jsonl, csv, kv) and Modbus RTU. */
    serial: serialPortsSchema.default([]),
    /** BLE advertisers through BlueZ; present means enabled. */
    ble: bleSchema.optional(),
  })
  .prefault({});

export const configSchema = z.strictObject({
  gateway: gatewaySchema,
  log: logSchema,
  buffer: bufferSchema,
  /** Omit to run offline: readings are buffered until a cloud is configured. */
  cloud: cloudSchema.optional(),
  /** Signed updates; omit to disable OTA on this box. */
  ota: otaSchema.optional(),
  /** Device key, CSR, certificate lifecycle and rotation; every key has a default. */
  identity: identitySchema,
  sensors: sensorsSchema,
  ui: uiSchema,
  /** Alert rules and their thresholds; every key has a default. */
  alerts: alertsSchema,
}).superRefine(checkProfileGateway);

export type Config = z.infer<typeof configSchema>;
export type ConfigInput = z.input<typeof configSchema>;

/** JSON Schema for the setup UI's forms and for editors. */
export function configJsonSchema(): Record<string, unknown> {
  return z.toJSONSchema(configSchema, { io: 'input', unrepresentable: 'any' }) as Record<string, unknown>;
}
