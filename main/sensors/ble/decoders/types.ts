import type { Values } from '../../../shared/reading.js';

export const BLE_FORMATS = [
  'bthome-v2',
  'ruuvi-df5',
  'ruuvi-df6',
  'mibeacon',
  'pvvx',
  'atc1441',
  'govee',
  'inkbird',
  'switchbot',
  'qingping',
  'ibeacon',
  'eddystone',
] as const;

export type BleFormat = (typeof BLE_FORMATS)[number];

/** Beacons: the reading is presence plus the RSSI the gateway heard it with. */
export const PRESENCE_FORMATS: ReadonlySet<BleFormat> = new Set(['ibeacon', 'eddystone']);

/** What one advertisement payload says, in reading units. */
export interface DecodedAdvertisement {
  format: BleFormat;
  values: Values;
  encrypted: boolean;
  /**
   * BTHome packet id, MiBeacon frame counter, pvvx/ATC counter or Ruuvi measurement sequence: a
   * repeat of the previous one is the same measurement.
   */
  repeatId?: number;
  /** Encrypted frame counter (BTHome: the 4 counter bytes; MiBeacon: extended counter × 256 + frame counter). */
  counter?: number;
  /** The MAC carried inside the payload, upper case with colons; Ruuvi DF6 carries only the low 3 bytes. */
  payloadMac?: string;
  /** Beacon identity: iBeacon `uuid/major/minor`, Eddystone-UID `namespace/instance` (hex). */
  beaconId?: string;
}

export type DecodeFailure = 'unknown-format' | 'truncated' | 'malformed' | 'key-required' | 'mic-failure';

/** A payload that cannot be decoded; `reason` is stable for metrics and tests, the message is for people. */
export class DecodeError extends Error {
  constructor(
    readonly reason: DecodeFailure,
    message: string,
  ) {
    super(message);
    this.name = 'DecodeError';
  }
}
