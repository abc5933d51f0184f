import { BTHOME_UUID, decodeBthome } from './bthome.js';
import { RUUVI_COMPANY_ID, decodeRuuvi } from './ruuvi.js';
import { DecodeError, type DecodedAdvertisement } from './types.js';

export { BTHOME_UUID, RUUVI_COMPANY_ID };

/** The advertisement payloads BlueZ reports for one device. */
export interface AdvertisementPayloads {
  /** Full 128-bit UUID (lower case) → service data. */
  serviceData: ReadonlyMap<string, Uint8Array>;
  /** Company id → manufacturer data. */
  manufacturerData: ReadonlyMap<number, Uint8Array>;
}

export interface DecodeKeying {
  mac?: Uint8Array;
  bindKey?: Uint8Array;
}

/** Whether the payloads carry a format this gateway decodes (cheap check, no decoding). */
export function hasKnownPayload(payloads: AdvertisementPayloads): boolean {
  return payloads.serviceData.has(BTHOME_UUID) || payloads.manufacturerData.has(RUUVI_COMPANY_ID);
}

/** Decodes the first known payload; throws DecodeError('unknown-format') when there is none. */
export function decodePayloads(payloads: AdvertisementPayloads, keying: DecodeKeying = {}): DecodedAdvertisement {
  const bthome = payloads.serviceData.get(BTHOME_UUID);
  if (bthome) return decodeBthome(bthome, keying);
  const ruuvi = payloads.manufacturerData.get(RUUVI_COMPANY_ID);
  if (ruuvi) return decodeRuuvi(ruuvi);
  const seen = [...payloads.serviceData.keys(), ...[...payloads.manufacturerData.keys()].map(companyLabel)];
  throw new DecodeError(
    'unknown-format',
    `no supported payload (BTHome service fcd2 or Ruuvi company 0x0499)${seen.length > 0 ? `; seen: ${seen.join(', ')}` : ''}`,
  );
}

function companyLabel(id: number): string {
  return `company 0x${id.toString(16).padStart(4, '0')}`;
}

/** `fcd2`, `0xfcd2` or a full UUID → full lower-case 128-bit UUID. */
export function expandUuid(text: string): string {
  const clean = text.trim().toLowerCase().replace(/^0x/, '');
  if (/^[0-9a-f]{4}$/.test(clean)) return `0000${clean}-0000-1000-8000-00805f9b34fb`;
  if (/^[0-9a-f]{8}$/.test(clean)) return `${clean}-0000-1000-8000-00805f9b34fb`;
  if (/^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/.test(clean)) return clean;
  throw new DecodeError('malformed', `expected a 16-bit UUID such as fcd2 or a full UUID, got "${text}"`);
}
