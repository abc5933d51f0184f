import type { LinePortConfig } from '../../../shared/config/serial.js';
import { csvParser } from './csv.js';
import { jsonlParser } from './jsonl.js';
import { kvParser } from './kv.js';
import { withValueCap, type LineParser } from './line-result.js';

export function lineParserFor(config: LinePortConfig): LineParser {
  return withValueCap(formatParserFor(config), config.maxValuesPerReading);
}

function formatParserFor(config: LinePortConfig): LineParser {
  switch (config.format) {
    case 'jsonl':
      return jsonlParser({ sensor: config.sensor, ...(config.fields && { fields: config.fields }) });
    case 'kv':
      return kvParser({ sensor: config.sensor, ...(config.fields && { fields: config.fields }) });
    case 'csv':
      return csvParser({ sensor: config.sensor, delimiter: config.delimiter, columns: config.columns });
  }
}
