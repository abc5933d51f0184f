import { z } from 'zod';
import { alertsSchema } from './alerts.js';
import { bleSchema } from './ble.js';
import { bufferSchema } from './buffer.js';
import { cloudSchema } from './cloud.js';
import { checkProfileGateway } from './cloud-profiles.js';
import { gatewaySchema, logSchema, uiSchema } from './gateway.js';
import { identitySchema } from './identity.js';
import { otaSchema } from './ota.js';
import { modbusTcpServersSchema } from './modbus.js';
import { configuredSensorIds, serialPortsSchema } from './serial.js';
import { simSensorSchema } from './sim.js';

export const sensorsSchema = z
  .strictObject({
    sim: z.array(simSensorSchema).default([]),
    /** Sensors on serial ports: line formats (jsonl, csv, kv) and Modbus RTU. */
    serial: serialPortsSchema.default([]),
    /** Modbus TCP servers (PLCs, meters, TCP-to-RTU gateways), polled by the gateway. */
    modbusTcp: modbusTcpServersSchema.default([]),
    /** BLE advertisers through BlueZ; present means enabled. */
    ble: bleSchema.optional(),
  })
  .superRefine((sensors, ctx) => {
    // Serial ports and Modbus TCP units name their sensors in config; one id must not be read from two places.
    const serialIds = new Map(sensors.serial.flatMap((port, index) => configuredSensorIds(port).map((id) => [id, index] as const)));
    sensors.modbusTcp.forEach((server, index) => {
      server.units.forEach((unit, unitIndex) => {
        const port = serialIds.get(unit.sensorId);
        if (port !== undefined) {
          ctx.addIssue({ code: 'custom', path: ['modbusTcp', index, 'units', unitIndex, 'sensorId'], input: unit.sensorId, message: `sensor id already used by sensors.serial.${port}` });
        }
      });
    });
  }, { when: (payload) => payload.issues.length === 0 })
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
