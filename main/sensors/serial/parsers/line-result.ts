import { IDENTIFIER_PATTERN, QUANTITY_PATTERN } from '../../../shared/config/common.js';
import type { FieldMapping, SensorIdRule } from '../../../shared/config/serial.js';
import type { Values } from '../../../shared/reading.js';
import type { RejectReason } from '../rejects.js';
import { scaleValue } from '../scale.js';

export interface Rejection {
  ok: false;
  reason: RejectReason;
  detail: string;
}

export type LineResult = { ok: true; sensorId: string; values: Values } | Rejection;

/** A line parser: pure, never throws, one text line in, one result out. */
export type LineParser = (line: string) => LineResult;

export function rejected(reason: RejectReason, detail: string): Rejection {
  return { ok: false, reason, detail };
}

const NUMBER = /^[+-]?(\d+(\.\d*)?|\.\d+)([eE][+-]?\d+)?$/;

/** A decimal number as sensors print it; hex, `Infinity` and empty strings are not numbers. */
export function parseNumber(text: string): number | undefined {
  const trimmed = text.trim();
  if (!NUMBER.test(trimmed)) return undefined;
  const value = Number(trimmed);
  return Number.isFinite(value) ? value : undefined;
}

/** Written as a decimal number, but too large for a double (`1e400`): a bad value, not text. */
export function isOverflowingNumber(text: string): boolean {
  const trimmed = text.trim();
  return NUMBER.test(trimmed) && !Number.isFinite(Number(trimmed));
}

export function isQuantityName(name: string): boolean {
  return QUANTITY_PATTERN.test(name);
}

/** The gateway sensor id for a line: fixed by config, or read from the line and mapped. */
export function resolveSensorId(rule: SensorIdRule, raw: string | undefined): { ok: true; sensorId: string } | Rejection {
  if (rule.kind === 'fixed') return { ok: true, sensorId: rule.sensorId };
  if (raw === undefined || raw === '') return rejected('bad-sensor-id', `no sensor id in field "${rule.field}"`);
  if (rule.map) {
    const mapped = Object.hasOwn(rule.map, raw) ? rule.map[raw] : undefined;
    return mapped !== undefined ? { ok: true, sensorId: mapped } : rejected('unknown-sensor', `sensor "${clip(raw)}" is not listed in sensorIds`);
  }
  return IDENTIFIER_PATTERN.test(raw) ? { ok: true, sensorId: raw } : rejected('bad-sensor-id', `sensor id "${clip(raw)}" is not a valid identifier`);
}

/**
 * Turns raw name → number pairs into Values. With `fields`, only the listed names are taken and
 * mapped; without, every pair with a valid quantity name is taken as is (unit empty).
 */
export function mapValues(
  pairs: ReadonlyMap<string, { value: number; unit?: string }>,
  fields: Record<string, FieldMapping> | undefined,
): { ok: true; values: Values } | Rejection {
  const entries: [string, { value: number; unit: string }][] = [];
  if (fields) {
    for (const [name, mapping] of Object.entries(fields)) {
      const raw = pairs.get(name);
      if (raw === undefined) continue;
      const value = scaleValue(raw.value, mapping.scale, mapping.offset);
      if (value === undefined) return rejected('bad-value', `"${name}" is out of range after scaling`);
      entries.push([mapping.quantity ?? name, { value, unit: mapping.unit || (raw.unit ?? '') }]);
    }
  } else {
    for (const [name, raw] of pairs) {
      if (isQuantityName(name)) entries.push([name, { value: raw.value, unit: raw.unit ?? '' }]);
    }
  }
  if (entries.length === 0) return rejected('no-values', fields ? 'none of the configured fields is present' : 'no numeric fields');
  return { ok: true, values: Object.fromEntries(entries) };
}

/**
 * Bounds one reading: a line carrying more than `maxValues` values is rejected whole (reason
 * `too-many-values`) rather than truncated, since which values to keep would be arbitrary.
 */
export function withValueCap(parse: LineParser, maxValues: number): LineParser {
  return (line) => {
    const result = parse(line);
    if (!result.ok) return result;
    const count = Object.keys(result.values).length;
    return count > maxValues ? rejected('too-many-values', `${count} values in one reading; at most ${maxValues} (maxValuesPerReading)`) : result;
  };
}

export function clip(text: string, max = 40): string {
  return text.length > max ? `${text.slice(0, max)}…` : text;
}
