import type { Values } from '../../../shared/reading.js';
import { round } from './bthome.js';
import { dataView, requireLength } from './bytes.js';
import { DecodeError, type DecodedAdvertisement } from './types.js';

/** IBS-TH1 (temperature and humidity) calls itself "sps", IBS-TH2 (temperature only) "tps". */
export const INKBIRD_NAMES: ReadonlySet<string> = new Set(['sps', 'tps']);

const DATA_BYTES = 7;

/**
 * Decodes Inkbird IBS-TH1/IBS-TH2 manufacturer data. These sensors put the temperature (int16,
 * 0.01 °C) in the company id field, so the "company id" BlueZ reports is part of the reading;
 * the data is humidity (uint16, 0.01 %), external-probe flag, 2 checksum bytes, battery %, type.
 */
export function decodeInkbird(name: string, companyId: number, data: Uint8Array): DecodedAdvertisement {
  if (!INKBIRD_NAMES.has(name)) throw new DecodeError('unknown-format', `Inkbird: device name "${name}" is not sps (IBS-TH1) or tps (IBS-TH2)`);
  requireLength(data, DATA_BYTES, 'Inkbird IBS-TH');
  const view = dataView(data);
  const temperature = companyId >= 0x8000 ? companyId - 0x10000 : companyId;
  const values: Values = { temperature: { value: round(temperature * 0.01), unit: '°C' } };
  if (name === 'sps') values.humidity = { value: round(view.getUint16(0, true) * 0.01), unit: '%' };
  values.external_probe = { value: view.getUint8(2) === 0 ? 0 : 1, unit: 'bool' };
  values.battery = { value: view.getUint8(5), unit: '%' };
  return { format: 'inkbird', encrypted: false, values };
}
