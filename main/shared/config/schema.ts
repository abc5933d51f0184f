import { z } from 'zod';
import { bufferSchema } from './buffer.js';
import { cloudSchema } from './cloud.js';
import { gatewaySchema, logSchema, uiSchema } from './gateway.js';
import { simSensorSchema } from './sim.js';

export const sensorsSchema = z
  .strictObject({
    sim: z.array(simSensorSchema).default([]),
  })
  .prefault({});

export const configSchema = z.strictObject({
  gateway: gatewaySchema,
  log: logSchema,
  buffer: bufferSchema,
  /** Omit to run offline: readings are buffered until a cloud is configured. */
  cloud: cloudSchema.optional(),
  sensors: sensorsSchema,
  ui: uiSchema,
});

export type Config = z.infer<typeof configSchema>;
export type ConfigInput = z.input<typeof configSchema>;

/** JSON Schema for the setup UI's forms and for editors. */
export function configJsonSchema(): Record<string, unknown> {
  return z.toJSONSchema(configSchema, { io: 'input', unrepresentable: 'any' }) as Record<string, unknown>;
}
