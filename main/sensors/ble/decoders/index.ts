import { ENVIRONMENTAL_SENSING_UUID, decodeAtcPvvx } from './atc-pvvx.js';
import { BTHOME_UUID, decodeBthome } from './bthome.js';
import { EDDYSTONE_UUID, decodeEddystone } from './eddystone.js';
import { GOVEE_COMPANY_IDS, decodeGovee, isGoveePayload } from './govee.js';
import { APPLE_COMPANY_ID, decodeIbeacon, isIbeaconPayload } from './ibeacon.js';
import { INKBIRD_NAMES, decodeInkbird } from './inkbird.js';
import { MIBEACON_UUID, decodeMiBeacon } from './mibeacon.js';
import { QINGPING_UUID, decodeQingping } from './qingping.js';
import { RUUVI_COMPANY_ID, decodeRuuvi } from './ruuvi.js';
import { SWITCHBOT_COMPANY_ID, SWITCHBOT_UUIDS, decodeSwitchbot } from './switchbot.js';
import { DecodeError, type BleFormat, type DecodedAdvertisement } from './types.js';

export { BTHOME_UUID, MIBEACON_UUID, RUUVI_COMPANY_ID };

/** The advertisement payloads BlueZ reports for one device. */
export interface AdvertisementPayloads {
  /** Full 128-bit UUID (lower case) → service data. */
  serviceData: ReadonlyMap<string, Uint8Array>;
  /** Company id → manufacturer data. */
  manufacturerData: ReadonlyMap<number, Uint8Array>;
  /** The name the device advertises (BlueZ `Name`, not a user-set `Alias`); Inkbird sensors are recognised by it. */
  localName?: string;
}

export interface DecodeKeying {
  mac?: Uint8Array;
  bindKey?: Uint8Array;
}

interface FormatDecoder {
  /** For messages: where this format is found. */
  label: string;
  /** The bytes this format is read from (to tell identical frames apart), or undefined when the payloads are not this format. */
  frame(payloads: AdvertisementPayloads): Uint8Array | undefined;
  decode(payloads: AdvertisementPayloads, frame: Uint8Array, keying: DecodeKeying): DecodedAdvertisement;
  /** For formats that can be encrypted: the format to show for a device whose frames cannot be opened yet (no key, wrong key). */
  keyedFormat?: BleFormat;
}

const service = (uuid: string) => (payloads: AdvertisementPayloads) => payloads.serviceData.get(uuid);

/** In order of precedence: a Govee sensor also sends an iBeacon record, so beacons come last. */
const DECODERS: readonly FormatDecoder[] = [
  { label: 'BTHome (service fcd2)', frame: service(BTHOME_UUID), decode: (_, frame, keying) => decodeBthome(frame, keying), keyedFormat: 'bthome-v2' },
  { label: 'MiBeacon (service fe95)', frame: service(MIBEACON_UUID), decode: (_, frame, keying) => decodeMiBeacon(frame, keying), keyedFormat: 'mibeacon' },
  { label: 'pvvx/ATC (service 181a)', frame: service(ENVIRONMENTAL_SENSING_UUID), decode: (_, frame) => decodeAtcPvvx(frame) },
  { label: 'Qingping (service fdcd)', frame: service(QINGPING_UUID), decode: (_, frame) => decodeQingping(frame) },
  {
    label: 'SwitchBot (service fd3d)',
    frame: (payloads) => {
      const data = SWITCHBOT_UUIDS.map((uuid) => payloads.serviceData.get(uuid)).find((d) => d !== undefined);
      const extra = payloads.manufacturerData.get(SWITCHBOT_COMPANY_ID);
      return data && extra ? Uint8Array.from([...data, ...extra]) : data;
    },
    decode: (payloads) => {
      const data = SWITCHBOT_UUIDS.map((uuid) => payloads.serviceData.get(uuid)).find((d) => d !== undefined) as Uint8Array;
      return decodeSwitchbot(data, payloads.manufacturerData.get(SWITCHBOT_COMPANY_ID));
    },
  },
  { label: 'Ruuvi (company 0x0499)', frame: (payloads) => payloads.manufacturerData.get(RUUVI_COMPANY_ID), decode: (_, frame) => decodeRuuvi(frame) },
  {
    label: 'Govee (company 0xec88, 0x8801 or 0x0001)',
    frame: (payloads) => goveeEntry(payloads)?.[1],
    decode: (payloads, frame) => decodeGovee((goveeEntry(payloads) as [number, Uint8Array])[0], frame),
  },
  {
    label: 'Inkbird (name sps or tps)',
    // The company id is the temperature, so it is part of what makes a frame new.
    frame: (payloads) => {
      const entry = inkbirdEntry(payloads);
      return entry && Uint8Array.from([entry[0] & 0xff, entry[0] >> 8, ...entry[1]]);
    },
    decode: (payloads) => {
      const [companyId, data] = inkbirdEntry(payloads) as [number, Uint8Array];
      return decodeInkbird(payloads.localName as string, companyId, data);
    },
  },
  { label: 'Eddystone (service feaa)', frame: service(EDDYSTONE_UUID), decode: (_, frame) => decodeEddystone(frame) },
  {
    label: 'iBeacon (company 0x004c)',
    frame: (payloads) => {
      const data = payloads.manufacturerData.get(APPLE_COMPANY_ID);
      return data && isIbeaconPayload(data) ? data : undefined;
    },
    decode: (_, frame) => decodeIbeacon(frame),
  },
];

function goveeEntry(payloads: AdvertisementPayloads): [number, Uint8Array] | undefined {
  for (const id of Object.values(GOVEE_COMPANY_IDS)) {
    const data = payloads.manufacturerData.get(id);
    if (data && isGoveePayload(id, data)) return [id, data];
  }
  return undefined;
}

/**
 * Inkbird's company id is its temperature, so BlueZ may hold several entries; the last one
 * reported is the latest reading.
 */
function inkbirdEntry(payloads: AdvertisementPayloads): [number, Uint8Array] | undefined {
  if (payloads.localName === undefined || !INKBIRD_NAMES.has(payloads.localName)) return undefined;
  return [...payloads.manufacturerData].at(-1);
}

function matching(payloads: AdvertisementPayloads): { decoder: FormatDecoder; frame: Uint8Array } | undefined {
  for (const decoder of DECODERS) {
    const frame = decoder.frame(payloads);
    if (frame) return { decoder, frame };
  }
  return undefined;
}

/** Whether the payloads carry a format this gateway decodes (cheap check, no decoding). */
export function hasKnownPayload(payloads: AdvertisementPayloads): boolean {
  return matching(payloads) !== undefined;
}

/** The bytes of the payload that would be decoded; a repeat of them is the same advertisement. */
export function knownFrame(payloads: AdvertisementPayloads): Uint8Array | undefined {
  return matching(payloads)?.frame;
}

/** For a device whose frames cannot be decoded yet (no or wrong key): the encrypted format it sends, if any. */
export function keyedFormatOf(payloads: AdvertisementPayloads): BleFormat | undefined {
  return matching(payloads)?.decoder.keyedFormat;
}

/** Decodes the first known payload; throws DecodeError('unknown-format') when there is none. */
export function decodePayloads(payloads: AdvertisementPayloads, keying: DecodeKeying = {}): DecodedAdvertisement {
  const match = matching(payloads);
  if (match) return match.decoder.decode(payloads, match.frame, keying);
  const seen = [...payloads.serviceData.keys(), ...[...payloads.manufacturerData.keys()].map(companyLabel)];
  throw new DecodeError(
    'unknown-format',
    `no supported payload (${DECODERS.map((d) => d.label).join(', ')})${seen.length > 0 ? `; seen: ${seen.join(', ')}` : ''}`,
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
