import { z } from 'zod';
import { durationMs, identifier } from './common.js';
import { finite, flagRepeatedQuantities, quantityName, unit } from './values.js';

/** Register tables hold 16-bit words; coil and discrete tables hold single bits. */
const BIT_TABLES = ['coil', 'discrete'] as const;
const WORD_TYPES = ['u16', 's16', 'u32', 's32', 'float32'] as const;

const isBitTable = (table: string): boolean => (BIT_TABLES as readonly string[]).includes(table);

/**
 * One value in a Modbus device's address space, the same for RTU slaves and TCP units. Coils and
 * discrete inputs are booleans, published as 1 or 0 with unit "bool"; scale, offset and wordOrder
 * apply to registers only.
 */
const modbusRegisterSchema = z
  .strictObject({
    quantity: quantityName,
    unit: unit.optional(),
    table: z.enum(['holding', 'input', ...BIT_TABLES]).default('holding'),
    /** Zero-based address as sent on the wire (register 40001 is holding address 0, coil 00001 is coil address 0). */
    address: z.number().int().min(0).max(65535),
    type: z.enum([...WORD_TYPES, 'bool']).optional(),
    /** For 32-bit types: `big` means the first register holds the high word. */
    wordOrder: z.enum(['big', 'little']).optional(),
    scale: finite.optional(),
    offset: finite.optional(),
  })
  .superRefine((register, ctx) => {
    const problem = (key: string, message: string): void => {
      ctx.addIssue({ code: 'custom', path: [key], input: (register as Record<string, unknown>)[key], message });
    };
    if (isBitTable(register.table)) {
      if (register.type !== undefined && register.type !== 'bool') problem('type', `table "${register.table}" holds bits: omit type (or give "bool")`);
      for (const key of ['wordOrder', 'scale', 'offset'] as const) {
        if (register[key] !== undefined) problem(key, `not used by table "${register.table}": its values are booleans, 1 or 0`);
      }
    } else if (register.type === 'bool') {
      problem('type', `table "${register.table}" holds 16-bit registers: expected ${WORD_TYPES.join(', ')}; booleans live in table "coil" or "discrete"`);
    }
    if (register.type !== undefined && registerWidth(register.type) === 2 && register.address > 65534) {
      problem('address', `a ${register.type} spans two registers: expected an address up to 65534`);
    }
  })
  .transform((register) => {
    const bits = isBitTable(register.table);
    return {
      quantity: register.quantity,
      unit: register.unit ?? (bits ? 'bool' : ''),
      table: register.table,
      address: register.address,
      type: register.type ?? (bits ? 'bool' : 'u16'),
      wordOrder: register.wordOrder ?? 'big',
      scale: register.scale ?? 1,
      offset: register.offset ?? 0,
    };
  });

export type ModbusRegisterConfig = z.output<typeof modbusRegisterSchema>;

/** Registers (or bits) one value of `type` occupies. */
export function registerWidth(type: ModbusRegisterConfig['type']): number {
  return type === 'u32' || type === 's32' || type === 'float32' ? 2 : 1;
}

/** The register map of one device (a `modbus-rtu` slave or a `modbusTcp` unit). */
export const modbusRegistersSchema = z
  .array(modbusRegisterSchema)
  .min(1, { error: 'expected at least one register' })
  .superRefine((registers, ctx) => flagRepeatedQuantities(registers.map((r) => r.quantity), ctx, (index) => [index, 'quantity']));

export const MODBUS_TCP_DEFAULTS = {
  port: 502,
  intervalMs: 1000,
  timeoutMs: 1000,
  connectTimeoutMs: 5000,
} as const;

const modbusTcpUnitSchema = z.strictObject({
  unitId: z.number().int().min(0, { error: 'expected a unit id 0-255' }).max(255, { error: 'expected a unit id 0-255' }).describe('The Modbus unit identifier (a TCP-to-RTU gateway: the slave address behind it; a device of its own: often 1 or 255)'),
  sensorId: identifier,
  registers: modbusRegistersSchema,
});

/** One Modbus TCP server (a PLC, an energy meter, a TCP-to-RTU gateway) and the units polled on it. */
const modbusTcpServerSchema = z
  .strictObject({
    id: identifier.describe('Names the server in logs and metrics (fieldgate_modbus_tcp_rejects_total{server=...})'),
    host: z.string().min(1, { error: 'expected a host name or IP address' }),
    port: z.number().int().min(1).max(65535).default(MODBUS_TCP_DEFAULTS.port),
    units: z.array(modbusTcpUnitSchema).min(1, { error: 'expected at least one unit' }).describe('The units to poll, each one sensor'),
    intervalMs: durationMs.min(10).max(86_400_000).default(MODBUS_TCP_DEFAULTS.intervalMs).describe('Poll every unit this often'),
    timeoutMs: durationMs.min(10).max(60_000).default(MODBUS_TCP_DEFAULTS.timeoutMs).describe('Wait this long for each response'),
    connectTimeoutMs: durationMs.min(10).max(120_000).default(MODBUS_TCP_DEFAULTS.connectTimeoutMs).describe('Give up a connection attempt after this long (then retry with backoff)'),
  })
  .superRefine((server, ctx) => {
    const seen = new Set<number>();
    server.units.forEach((unit, index) => {
      if (seen.has(unit.unitId)) ctx.addIssue({ code: 'custom', path: ['units', index, 'unitId'], input: unit.unitId, message: 'unit id listed twice on this server' });
      seen.add(unit.unitId);
    });
  });

export type ModbusTcpServerConfig = z.output<typeof modbusTcpServerSchema>;

/** The `sensors.modbusTcp` list: server ids and sensor ids must not repeat. */
export const modbusTcpServersSchema = z.array(modbusTcpServerSchema).superRefine((servers, ctx) => {
  const ids = new Map<string, number>();
  const sensors = new Map<string, number>();
  servers.forEach((server, index) => {
    const first = ids.get(server.id);
    if (first !== undefined) ctx.addIssue({ code: 'custom', path: [index, 'id'], input: server.id, message: `server id already used by sensors.modbusTcp.${first}` });
    else ids.set(server.id, index);
    server.units.forEach((unit, unitIndex) => {
      const owner = sensors.get(unit.sensorId);
      if (owner !== undefined) ctx.addIssue({ code: 'custom', path: [index, 'units', unitIndex, 'sensorId'], input: unit.sensorId, message: `sensor id already used by sensors.modbusTcp.${owner}` });
      else sensors.set(unit.sensorId, index);
    });
  });
});
