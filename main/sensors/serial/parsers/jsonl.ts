import { MAX_UNIT_LENGTH } from '../../../shared/config/common.js';
import type { FieldMapping, SensorIdRule } from '../../../shared/config/serial.js';
import { clip, mapValues, rejected, resolveSensorId, type LineParser } from './line-result.js';

export interface JsonlOptions {
  sensor: SensorIdRule;
  fields?: Record<string, FieldMapping>;
}

/**
 * One JSON object per line: `{"sensor":"a1","temperature":21.5,"rh":{"value":40,"unit":"%"}}`.
 * Numbers and `{value, unit}` objects are values; other fields (strings, flags) are ignored
 * unless `fields` names them, in which case they must be numeric. A number too large to be finite
 * (`1e400`) is a bad value wherever it would be taken, with or without `fields`.
 */
export function jsonlParser(options: JsonlOptions): LineParser {
  return (line) => {
    let document: unknown;
    try {
      document = JSON.parse(line);
    } catch (error) {
      return rejected('bad-json', (error as Error).message);
    }
    if (typeof document !== 'object' || document === null || Array.isArray(document)) {
      return rejected('bad-json', 'expected one JSON object per line');
    }
    const record = document as Record<string, unknown>;
    const idField = options.sensor.kind === 'field' ? options.sensor.field : undefined;
    let rawId: string | undefined;
    if (idField !== undefined) {
      const id = record[idField];
      rawId = typeof id === 'string' || typeof id === 'number' ? String(id) : undefined;
    }
    const sensor = resolveSensorId(options.sensor, rawId);
    if (!sensor.ok) return sensor;

    const pairs = new Map<string, { value: number; unit?: string }>();
    for (const [name, raw] of Object.entries(record)) {
      if (name === idField) continue;
      const taken = options.fields ? Object.hasOwn(options.fields, name) : true;
      const measurement = asMeasurement(raw);
      if (measurement) pairs.set(name, measurement);
      else if (taken && isNonFinite(raw)) return rejected('bad-value', `"${name}" is not a finite number`);
      else if (taken && options.fields) return rejected('bad-value', `"${name}" is not a number: ${clip(JSON.stringify(raw))}`);
    }
    const mapped = mapValues(pairs, options.fields);
    return mapped.ok ? { ok: true, sensorId: sensor.sensorId, values: mapped.values } : mapped;
  };
}

/** JSON.parse turns an overflowing literal such as `1e400` into Infinity. */
function isNonFinite(raw: unknown): boolean {
  const value = typeof raw === 'object' && raw !== null ? (raw as { value?: unknown }).value : raw;
  return typeof value === 'number' && !Number.isFinite(value);
}

function asMeasurement(raw: unknown): { value: number; unit?: string } | undefined {
  if (typeof raw === 'number') return Number.isFinite(raw) ? { value: raw } : undefined;
  if (typeof raw !== 'object' || raw === null) return undefined;
  const { value, unit } = raw as { value?: unknown; unit?: unknown };
  if (typeof value !== 'number' || !Number.isFinite(value)) return undefined;
  if (unit === undefined) return { value };
  return typeof unit === 'string' && unit.length <= MAX_UNIT_LENGTH ? { value, unit } : undefined;
}
