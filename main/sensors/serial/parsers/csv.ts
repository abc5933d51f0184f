import type { CsvColumn } from '../../../shared/config/serial.js';
import type { SensorIdRule } from '../../../shared/config/serial.js';
import type { Values } from '../../../shared/reading.js';
import { scaleValue } from '../scale.js';
import { clip, parseNumber, rejected, resolveSensorId, type LineParser } from './line-result.js';

export interface CsvOptions {
  sensor: SensorIdRule;
  delimiter: string;
  columns: readonly CsvColumn[];
}

/**
 * Delimited values mapped by position: column i of the line is `columns[i]` (a quantity with
 * unit and scaling, the sensor id, or skipped). A line with a different column count is rejected,
 * since a merged or truncated line would otherwise put values under the wrong quantity. Empty
 * value cells are left out; surrounding spaces and double quotes are stripped.
 */
export function csvParser(options: CsvOptions): LineParser {
  return (line) => {
    const cells = line.split(options.delimiter).map(unquote);
    if (cells.length !== options.columns.length) {
      return rejected('column-count', `expected ${options.columns.length} columns, got ${cells.length}`);
    }
    let rawId: string | undefined;
    const entries: [string, { value: number; unit: string }][] = [];
    for (const [index, column] of options.columns.entries()) {
      const cell = cells[index] as string;
      if (column === 'skip') continue;
      if (column === 'sensorId') {
        rawId = cell;
        continue;
      }
      if (cell === '') continue;
      const raw = parseNumber(cell);
      if (raw === undefined) return rejected('bad-value', `column ${index + 1} (${column.quantity}) is not a number: "${clip(cell)}"`);
      const value = scaleValue(raw, column.scale, column.offset);
      if (value === undefined) return rejected('bad-value', `column ${index + 1} (${column.quantity}) is out of range after scaling`);
      entries.push([column.quantity, { value, unit: column.unit }]);
    }
    const sensor = resolveSensorId(options.sensor, rawId);
    if (!sensor.ok) return sensor;
    if (entries.length === 0) return rejected('no-values', 'every value column is empty');
    const values: Values = Object.fromEntries(entries);
    return { ok: true, sensorId: sensor.sensorId, values };
  };
}

function unquote(cell: string): string {
  const trimmed = cell.trim();
  return trimmed.length >= 2 && trimmed.startsWith('"') && trimmed.endsWith('"') ? trimmed.slice(1, -1).trim() : trimmed;
}
