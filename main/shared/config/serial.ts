import { z } from 'zod';
import { durationMs, filePath, identifier, QUANTITY_PATTERN, QUANTITY_RULE } from './common.js';
import { modbusRegistersSchema, type ModbusRegisterConfig } from './modbus.js';
import { finite, flagRepeatedQuantities, quantityName, unit } from './values.js';

/** How one raw field becomes a measurement: `value * scale + offset`, named `quantity` (default: the field name). */
const fieldMappingSchema = z.strictObject({
  quantity: quantityName.optional(),
  unit: unit.default(''),
  scale: finite.default(1),
  offset: finite.default(0),
});

const csvValueColumnSchema = z.strictObject({
  quantity: quantityName,
  unit: unit.default(''),
  scale: finite.default(1),
  offset: finite.default(0),
});

const csvColumnSchema = z.union([z.literal('skip'), z.literal('sensorId'), csvValueColumnSchema], {
  error: 'expected "skip", "sensorId" or { quantity, unit, scale?, offset? }',
});

const hex4 = z
  .string()
  .regex(/^(0x)?[0-9A-Fa-f]{4}$/, { error: 'expected 4 hex digits, e.g. "0403"' })
  .transform((id) => id.replace(/^0x/, '').toLowerCase());

/** A USB serial adapter found by its identity, so it survives being moved to another socket. */
const usbMatchSchema = z
  .strictObject({
    vendorId: hex4.optional(),
    productId: hex4.optional(),
    serialNumber: z.string().min(1).optional(),
  })
  .refine((m) => m.vendorId !== undefined || m.productId !== undefined || m.serialNumber !== undefined, {
    error: 'give at least one of vendorId, productId or serialNumber',
  });

const modbusSlaveSchema = z.strictObject({
  address: z.number().int().min(1, { error: 'expected a slave address 1-247' }).max(247, { error: 'expected a slave address 1-247' }),
  sensorId: identifier,
  registers: modbusRegistersSchema,
});

export const SERIAL_DEFAULTS = {
  maxLineBytes: 4096,
  maxLinesPerSecond: 100,
  maxValuesPerReading: 64,
  intervalMs: 1000,
  timeoutMs: 1000,
  delimiter: ',',
} as const;

const FORMATS = ['jsonl', 'csv', 'kv', 'modbus-rtu'] as const;
const LINE_ONLY_KEYS = ['sensorId', 'sensorIdFrom', 'sensorIds', 'fields', 'columns', 'delimiter', 'ignore', 'maxLineBytes', 'maxLinesPerSecond', 'maxValuesPerReading'] as const;
const MODBUS_ONLY_KEYS = ['slaves', 'intervalMs', 'timeoutMs'] as const;

/**
 * One serial port. One flat object for every format (so unknown keys get a did-you-mean), with
 * the format's required and forbidden keys checked below.
 */
const serialPortFields = z.strictObject({
  id: identifier.describe('Names the port in logs and metrics (fieldgate_serial_rejects_total{port=...})'),
  path: filePath.optional().describe('/dev/ttyUSB0, or better a stable /dev/serial/by-id/... link; or give match instead'),
  match: usbMatchSchema.optional().describe('Find a USB adapter by vendorId/productId/serialNumber, whatever socket it is in'),
  baudRate: z.number().int().positive().default(9600),
  dataBits: z.union([z.literal(5), z.literal(6), z.literal(7), z.literal(8)], { error: 'expected 5, 6, 7 or 8' }).default(8),
  parity: z.enum(['none', 'even', 'odd', 'mark', 'space']).default('none'),
  stopBits: z.union([z.literal(1), z.literal(1.5), z.literal(2)], { error: 'expected 1, 1.5 or 2' }).default(1),
  format: z.enum(FORMATS).describe('jsonl, csv and kv read lines; modbus-rtu polls slaves'),
  sensorId: identifier.optional().describe('Every reading on this port belongs to this sensor'),
  sensorIdFrom: z.string().min(1).optional().describe('jsonl and kv: the field carrying the device\'s own sensor id (csv: a "sensorId" column)'),
  sensorIds: z.record(z.string().min(1), identifier).optional().describe('Device id to gateway sensor id; ids not listed are rejected'),
  fields: z
    .record(z.string().min(1), fieldMappingSchema)
    .optional()
    .describe('jsonl and kv: the fields to take, with quantity, unit, scale, offset; without it every numeric field is taken as is'),
  columns: z
    .array(csvColumnSchema)
    .min(1, { error: 'expected at least one column' })
    .optional()
    .describe('csv: one entry per column: "skip", "sensorId" or { quantity, unit, scale, offset }'),
  delimiter: z.string().length(1, { error: 'expected a single character' }).optional().describe(`csv: the column separator (default "${SERIAL_DEFAULTS.delimiter}")`),
  ignore: z
    .string()
    .refine(isValidRegex, { error: 'expected a valid regular expression' })
    .optional()
    .describe('Lines matching this regular expression (banners, headers, comments) are dropped without counting'),
  maxLineBytes: z.number().int().min(16).max(1024 * 1024).optional().describe(`Longer lines are dropped and counted (default ${SERIAL_DEFAULTS.maxLineBytes})`),
  maxLinesPerSecond: z.number().positive().max(100_000).optional().describe(`Lines beyond this rate are dropped and counted (default ${SERIAL_DEFAULTS.maxLinesPerSecond})`),
  maxValuesPerReading: z
    .number()
    .int()
    .min(1)
    .max(1024)
    .optional()
    .describe(`A line with more values than this is dropped and counted as too-many-values (default ${SERIAL_DEFAULTS.maxValuesPerReading})`),
  staleAfterMs: durationMs.min(1).optional().describe('Mark a sensor offline after this long without data (default: only when the port is gone)'),
  slaves: z.array(modbusSlaveSchema).min(1, { error: 'expected at least one slave' }).optional().describe('modbus-rtu: the slaves to poll'),
  intervalMs: durationMs.min(10).max(86_400_000).optional().describe(`modbus-rtu: poll every slave this often (default ${SERIAL_DEFAULTS.intervalMs})`),
  timeoutMs: durationMs.min(10).max(60_000).optional().describe(`modbus-rtu: wait this long for each response (default ${SERIAL_DEFAULTS.timeoutMs})`),
});

type PortFields = z.infer<typeof serialPortFields>;

function isValidRegex(source: string): boolean {
  try {
    new RegExp(source);
    return true;
  } catch {
    return false;
  }
}

function checkFormatKeys(port: PortFields, ctx: z.RefinementCtx): void {
  const problem = (key: string, message: string): void => {
    ctx.addIssue({ code: 'custom', path: [key], input: (port as Record<string, unknown>)[key], message });
  };
  if ((port.path === undefined) === (port.match === undefined)) {
    problem('path', 'give exactly one of path (e.g. /dev/serial/by-id/usb-FTDI_…) or match ({ vendorId, productId, serialNumber })');
  }
  const present = (keys: readonly string[]): string[] => keys.filter((k) => (port as Record<string, unknown>)[k] !== undefined);
  if (port.format === 'modbus-rtu') {
    for (const key of present(LINE_ONLY_KEYS)) problem(key, 'not used by format "modbus-rtu": give sensor ids and registers under slaves');
    if (port.slaves === undefined) problem('slaves', 'format "modbus-rtu" needs slaves: [{ address, sensorId, registers }]');
    const addresses = new Set<number>();
    port.slaves?.forEach((slave, index) => {
      if (addresses.has(slave.address)) {
        ctx.addIssue({ code: 'custom', path: ['slaves', index, 'address'], input: slave.address, message: 'slave address listed twice on this port' });
      }
      addresses.add(slave.address);
    });
    return;
  }
  for (const key of present(MODBUS_ONLY_KEYS)) problem(key, `only used by format "modbus-rtu", not "${port.format}"`);
  const idColumns = port.columns?.filter((c) => c === 'sensorId').length ?? 0;
  if (port.format === 'csv') {
    if (port.columns === undefined) problem('columns', 'format "csv" needs columns: a list of "skip", "sensorId" or { quantity, unit }');
    if (port.fields !== undefined) problem('fields', 'format "csv" maps values with columns, not fields');
    if (port.sensorIdFrom !== undefined) problem('sensorIdFrom', 'format "csv" takes the sensor id from a "sensorId" column');
    if (idColumns > 1) problem('columns', 'expected at most one "sensorId" column');
    if (port.columns !== undefined && !port.columns.some((c) => typeof c === 'object')) {
      problem('columns', 'expected at least one value column { quantity, unit }');
    }
    if ((port.sensorId === undefined) === (idColumns === 0)) {
      problem('sensorId', 'give exactly one of sensorId (one sensor per port) or a "sensorId" column');
    }
  } else {
    if (port.columns !== undefined) problem('columns', `only used by format "csv", not "${port.format}"`);
    if (port.delimiter !== undefined) problem('delimiter', `only used by format "csv", not "${port.format}"`);
    if ((port.sensorId === undefined) === (port.sensorIdFrom === undefined)) {
      problem('sensorId', 'give exactly one of sensorId (one sensor per port) or sensorIdFrom (the field naming the sensor)');
    }
  }
  const fieldEntries = Object.entries(port.fields ?? {});
  const configuredValues = port.format === 'csv' ? (port.columns?.filter((c) => typeof c === 'object').length ?? 0) : fieldEntries.length;
  const maxValues = port.maxValuesPerReading ?? SERIAL_DEFAULTS.maxValuesPerReading;
  if (configuredValues > maxValues) {
    problem('maxValuesPerReading', `this port maps ${configuredValues} values, more than ${maxValues} per reading: raise maxValuesPerReading to at least ${configuredValues}`);
  }
  flagRepeatedQuantities(fieldEntries.map(([name, mapping]) => mapping.quantity ?? name), ctx, (index) => ['fields', fieldEntries[index]?.[0] ?? index, 'quantity']);
  flagRepeatedQuantities(port.columns?.map((column) => (typeof column === 'object' ? column.quantity : undefined)) ?? [], ctx, (index) => ['columns', index, 'quantity']);
  for (const [name, mapping] of fieldEntries) {
    if (mapping.quantity === undefined && !QUANTITY_PATTERN.test(name)) {
      ctx.addIssue({ code: 'custom', path: ['fields', name, 'quantity'], input: undefined, message: `field "${name}" is not a valid quantity name: give quantity (${QUANTITY_RULE})` });
    }
  }
  if (port.sensorIds !== undefined && port.sensorId !== undefined) {
    problem('sensorIds', 'only used when the sensor id comes from the data (sensorIdFrom or a "sensorId" column)');
  }
}

export interface SerialLink {
  id: string;
  path?: string;
  match?: { vendorId?: string; productId?: string; serialNumber?: string };
  baudRate: number;
  dataBits: 5 | 6 | 7 | 8;
  parity: 'none' | 'even' | 'odd' | 'mark' | 'space';
  stopBits: 1 | 1.5 | 2;
  staleAfterMs?: number;
}

export interface FieldMapping {
  quantity?: string;
  unit: string;
  scale: number;
  offset: number;
}

export type CsvColumn = 'skip' | 'sensorId' | Required<FieldMapping>;

/** Where a line's sensor id comes from: fixed, or a field/column, optionally mapped. */
export type SensorIdRule = { kind: 'fixed'; sensorId: string } | { kind: 'field'; field: string; map?: Record<string, string> };

interface LineCommon extends SerialLink {
  sensor: SensorIdRule;
  ignore?: string;
  maxLineBytes: number;
  maxLinesPerSecond: number;
  maxValuesPerReading: number;
}

export interface JsonlPortConfig extends LineCommon {
  format: 'jsonl';
  fields?: Record<string, FieldMapping>;
}
export interface KvPortConfig extends LineCommon {
  format: 'kv';
  fields?: Record<string, FieldMapping>;
}
export interface CsvPortConfig extends LineCommon {
  format: 'csv';
  delimiter: string;
  columns: CsvColumn[];
}
export type { ModbusRegisterConfig };
export type ModbusSlaveConfig = z.infer<typeof modbusSlaveSchema>;
export interface ModbusPortConfig extends SerialLink {
  format: 'modbus-rtu';
  slaves: ModbusSlaveConfig[];
  intervalMs: number;
  timeoutMs: number;
}

export type LinePortConfig = JsonlPortConfig | KvPortConfig | CsvPortConfig;
export type SerialPortConfig = LinePortConfig | ModbusPortConfig;

function toPortConfig(port: PortFields): SerialPortConfig {
  const link: SerialLink = {
    id: port.id,
    baudRate: port.baudRate,
    dataBits: port.dataBits,
    parity: port.parity,
    stopBits: port.stopBits,
    ...(port.path !== undefined && { path: port.path }),
    ...(port.match !== undefined && { match: port.match }),
    ...(port.staleAfterMs !== undefined && { staleAfterMs: port.staleAfterMs }),
  };
  if (port.format === 'modbus-rtu') {
    return {
      ...link,
      format: 'modbus-rtu',
      slaves: port.slaves ?? [],
      intervalMs: port.intervalMs ?? SERIAL_DEFAULTS.intervalMs,
      timeoutMs: port.timeoutMs ?? SERIAL_DEFAULTS.timeoutMs,
    };
  }
  const field = port.format === 'csv' ? 'sensorId' : (port.sensorIdFrom ?? '');
  const common: LineCommon = {
    ...link,
    sensor:
      port.sensorId !== undefined
        ? { kind: 'fixed', sensorId: port.sensorId }
        : { kind: 'field', field, ...(port.sensorIds !== undefined && { map: port.sensorIds }) },
    maxLineBytes: port.maxLineBytes ?? SERIAL_DEFAULTS.maxLineBytes,
    maxLinesPerSecond: port.maxLinesPerSecond ?? SERIAL_DEFAULTS.maxLinesPerSecond,
    maxValuesPerReading: port.maxValuesPerReading ?? SERIAL_DEFAULTS.maxValuesPerReading,
    ...(port.ignore !== undefined && { ignore: port.ignore }),
  };
  if (port.format === 'csv') {
    return {
      ...common,
      format: 'csv',
      delimiter: port.delimiter ?? SERIAL_DEFAULTS.delimiter,
      columns: (port.columns ?? []) as CsvColumn[],
    };
  }
  return { ...common, format: port.format, ...(port.fields !== undefined && { fields: port.fields }) };
}

export const serialPortSchema = serialPortFields.superRefine(checkFormatKeys).transform(toPortConfig);

/** Sensor ids a port produces when they are known from config alone. */
export function configuredSensorIds(port: SerialPortConfig): string[] {
  if (port.format === 'modbus-rtu') return port.slaves.map((s) => s.sensorId);
  if (port.sensor.kind === 'fixed') return [port.sensor.sensorId];
  return port.sensor.map ? [...new Set(Object.values(port.sensor.map))] : [];
}

/** The `sensors.serial` list: port ids, paths and fixed sensor ids must not repeat. */
export const serialPortsSchema = z.array(serialPortSchema).superRefine(checkUnique, {
  // Only once every port is valid (and transformed): duplicates are the last thing worth reporting.
  when: (payload) => payload.issues.length === 0,
});

function checkUnique(ports: SerialPortConfig[], ctx: z.RefinementCtx): void {
  const seen = new Map<string, number>();
  const claim = (key: string, index: number, path: (string | number)[], what: string, value: string): void => {
    const first = seen.get(key);
    if (first === undefined) seen.set(key, index);
    else ctx.addIssue({ code: 'custom', path: [index, ...path], input: value, message: `${what} already used by sensors.serial.${first}` });
  };
  ports.forEach((port, index) => {
    claim(`id:${port.id}`, index, ['id'], 'port id', port.id);
    if (port.path !== undefined) claim(`path:${port.path}`, index, ['path'], 'path', port.path);
    if (port.format === 'modbus-rtu') {
      port.slaves.forEach((slave, slaveIndex) => {
        claim(`sensor:${slave.sensorId}`, index, ['slaves', slaveIndex, 'sensorId'], 'sensor id', slave.sensorId);
      });
    } else {
      const key = port.sensor.kind === 'fixed' ? 'sensorId' : 'sensorIds';
      for (const sensorId of configuredSensorIds(port)) claim(`sensor:${sensorId}`, index, [key], 'sensor id', sensorId);
    }
  });
}
