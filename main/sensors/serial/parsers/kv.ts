import type { FieldMapping, SensorIdRule } from '../../../shared/config/serial.js';
import { clip, isOverflowingNumber, mapValues, parseNumber, rejected, resolveSensorId, type LineParser } from './line-result.js';

export interface KvOptions {
  sensor: SensorIdRule;
  fields?: Record<string, FieldMapping>;
}

const PAIR_SEPARATORS = /[\s,;]+/;
const KEY_VALUE = /^([^=:]+)[=:](.*)$/;

/**
 * Key/value pairs: `temp=21.5 hum=40`. Pairs are separated by spaces, tabs, `,` or `;`; keys and
 * values by `=` or `:`. Non-numeric values (`status=ok`) are ignored unless `fields` names them;
 * a number too large to be finite (`t=1e400`) is a bad value either way.
 */
export function kvParser(options: KvOptions): LineParser {
  const idField = options.sensor.kind === 'field' ? options.sensor.field : undefined;
  return (line) => {
    const tokens = line.split(PAIR_SEPARATORS).filter((token) => token !== '');
    if (tokens.length === 0) return rejected('bad-format', 'empty line');
    const pairs = new Map<string, { value: number }>();
    let rawId: string | undefined;
    for (const token of tokens) {
      const match = KEY_VALUE.exec(token);
      if (!match) return rejected('bad-format', `expected key=value, got "${clip(token)}"`);
      const key = match[1] as string;
      const text = match[2] as string;
      if (key === idField) {
        rawId = text;
        continue;
      }
      const value = parseNumber(text);
      const taken = options.fields ? Object.hasOwn(options.fields, key) : true;
      if (value !== undefined) pairs.set(key, { value });
      else if (taken && isOverflowingNumber(text)) return rejected('bad-value', `"${key}" is not a finite number: "${clip(text)}"`);
      else if (taken && options.fields) return rejected('bad-value', `"${key}" is not a number: "${clip(text)}"`);
    }
    const sensor = resolveSensorId(options.sensor, rawId);
    if (!sensor.ok) return sensor;
    const mapped = mapValues(pairs, options.fields);
    return mapped.ok ? { ok: true, sensorId: sensor.sensorId, values: mapped.values } : mapped;
  };
}
