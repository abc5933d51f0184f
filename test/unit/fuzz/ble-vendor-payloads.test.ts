// Property tests for the vendor BLE decoders (MiBeacon plain and AES-CCM sealed, pvvx/ATC, Govee,
// Inkbird, SwitchBot, Qingping, iBeacon, Eddystone, BTHome with the MAC in the payload), through
// the same dispatch the scanner uses. Every input decodes to finite values or throws DecodeError
// with one of the README's reasons; nothing else.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import fc from 'fast-check';
import { macToBytes } from '../../../main/sensors/ble/decoders/bytes.js';
import { decodePayloads, type AdvertisementPayloads, type DecodeKeying } from '../../../main/sensors/ble/decoders/index.js';
import { DecodeError } from '../../../main/sensors/ble/decoders/types.js';
import { MIBEACON_VECTOR, sealMiBeacon } from '../../fixtures/ble/mibeacon-seal.js';
import { decodeChecked } from './ble-decode-check.js';
import { fuzz, mutatedBytes } from './harness.js';

const MAC = macToBytes(MIBEACON_VECTOR.mac);
const KEY = Buffer.from(MIBEACON_VECTOR.bindKey, 'hex');
const uuid = (short: string) => `0000${short}-0000-1000-8000-00805f9b34fb`;

const service = (short: string, data: Uint8Array): AdvertisementPayloads => ({ serviceData: new Map([[uuid(short), data]]), manufacturerData: new Map() });
const manufacturer = (company: number, data: Uint8Array, localName?: string): AdvertisementPayloads => ({
  serviceData: new Map(),
  manufacturerData: new Map([[company, data]]),
  ...(localName !== undefined ? { localName } : {}),
});
const exactly = (length: number) => fc.uint8Array({ minLength: length, maxLength: length });
const u16le = (value: number) => [value & 0xff, value >> 8];

/** Type/length/value runs of known ids with their right sizes (so decoding reaches deep), and optionally any ids. */
function records(known: ReadonlyArray<[number[], number]>, anyIds = true): fc.Arbitrary<number[]> {
  const idBytes = known[0]?.[0].length ?? 1;
  const knownRecord = fc.constantFrom(...known).chain(([id, size]) => exactly(size).map((data) => [...id, size, ...data]));
  const anyRecord = fc.tuple(exactly(idBytes), fc.uint8Array({ maxLength: 6 })).map(([id, data]) => [...id, data.length, ...data]);
  return fc.array(anyIds ? fc.oneof(knownRecord, anyRecord) : knownRecord, { maxLength: 5 }).map((parts) => parts.flat());
}

const MIBEACON_OBJECTS: Array<[number[], number]> = [
  [u16le(0x1004), 2], [u16le(0x1006), 2], [u16le(0x1007), 3], [u16le(0x1008), 1], [u16le(0x1009), 2], [u16le(0x100a), 1],
  [u16le(0x100d), 4], [u16le(0x1010), 2], [u16le(0x4803), 1], [u16le(0x4c01), 4], [u16le(0x4c02), 1], [u16le(0x4c08), 4],
];
const QINGPING_RECORDS: Array<[number[], number]> = [[[0x01], 4], [[0x02], 1], [[0x07], 2], [[0x09], 4], [[0x12], 4], [[0x13], 2]];

const plainMiBeacon = fc
  .tuple(fc.integer({ min: 1, max: 6 }), fc.integer({ min: 0, max: 0xfff }), fc.nat({ max: 0xffff }), fc.nat({ max: 255 }), exactly(6), fc.nat({ max: 255 }), records(MIBEACON_OBJECTS))
  .map(([version, flags, product, counter, mac, capability, objects]) => {
    const control = (version << 12) | (flags & ~0x0008);
    return Uint8Array.from([...u16le(control), ...u16le(product), counter, ...(control & 0x10 ? mac : []), ...(control & 0x20 ? [capability & 0xdf] : []), ...objects]);
  });
const sealedMiBeacon = fc
  .tuple(fc.nat({ max: 255 }), fc.nat({ max: 0xffffff }), records(MIBEACON_OBJECTS, false).filter((o) => o.length > 0), fc.boolean())
  .map(([frameCounter, extCounter, objects, withMac]) =>
    Uint8Array.from(
      Buffer.from(
        sealMiBeacon({ mac: MIBEACON_VECTOR.mac, bindKey: MIBEACON_VECTOR.bindKey, productId: 0x055b, frameCounter, extCounter, objectsHex: Buffer.from(objects).toString('hex'), withMac }),
        'hex',
      ),
    ),
  );
const keyings = fc.constantFrom<DecodeKeying>({}, { mac: MAC }, { bindKey: KEY }, { mac: MAC, bindKey: KEY }, { mac: MAC, bindKey: KEY.subarray(0, 15) });

describe('fuzz: vendor BLE payloads', () => {
  it('MiBeacon: plain and sealed frames mutated, with and without keys', () => {
    let decoded = 0;
    const data = fc.oneof(mutatedBytes(plainMiBeacon), mutatedBytes(sealedMiBeacon), fc.uint8Array({ maxLength: 40 }));
    fuzz(fc.tuple(data, keyings), ([frame, keying]) => {
      if (decodeChecked(service('fe95', frame), keying)) decoded++;
    });
    assert.ok(decoded > 1_000, `the generator reaches successful decodes (${decoded})`);
  });

  it('a sealed MiBeacon frame opens with the right key, and a flipped bit outside the MAC is refused', () => {
    fuzz(fc.tuple(sealedMiBeacon, fc.nat(), fc.integer({ min: 0, max: 7 })), ([frame, at, bit]) => {
      try {
        assert.ok(decodePayloads(service('fe95', frame), { mac: MAC, bindKey: KEY }).encrypted);
      } catch (error) {
        // Random float32 objects can be NaN: the frame opens, and the value is refused.
        assert.ok(error instanceof DecodeError && error.reason === 'malformed', String(error));
      }
      const macEnd = frame[0] === 0x58 ? 11 : 5;
      const candidates = [2, 3, 4, ...Array.from({ length: frame.length - macEnd }, (_, i) => macEnd + i)];
      const index = candidates[at % candidates.length] as number;
      const flipped = Uint8Array.from(frame);
      flipped[index] = (flipped[index] as number) ^ (1 << bit);
      try {
        decodePayloads(service('fe95', flipped), { mac: MAC, bindKey: KEY });
        assert.fail('a flipped sealed frame decoded');
      } catch (error) {
        assert.ok(error instanceof DecodeError && error.reason === 'mic-failure', String(error));
      }
    });
  });

  it('pvvx/ATC, Qingping, SwitchBot, Eddystone and BTHome-with-MAC service data, mutated', () => {
    const frames = fc.oneof(
      fc.oneof(mutatedBytes(exactly(13)), mutatedBytes(exactly(15))).map((d) => service('181a', d)),
      mutatedBytes(fc.tuple(exactly(8), records(QINGPING_RECORDS)).map(([head, rest]) => Uint8Array.from([...head, ...rest]))).map((d) => service('fdcd', d)),
      fc
        .tuple(mutatedBytes(fc.tuple(fc.constantFrom(0x54, 0x69, 0x77, 0xd4, 0x48), exactly(5)).map(([t, rest]) => Uint8Array.from([t, ...rest]))), fc.option(mutatedBytes(exactly(12))))
        .map(([sd, md]) => ({ serviceData: new Map([[uuid('fd3d'), sd]]), manufacturerData: md ? new Map([[0x0969, md]]) : new Map<number, Uint8Array>() })),
      mutatedBytes(fc.tuple(fc.constantFrom(0x00, 0x20, 0x10), fc.uint8Array({ minLength: 13, maxLength: 19 })).map(([t, rest]) => Uint8Array.from([t, 0, ...rest]))).map((d) => service('feaa', d)),
      mutatedBytes(fc.tuple(exactly(6), fc.uint8Array({ maxLength: 10 })).map(([mac, rest]) => Uint8Array.from([0x42, ...mac, ...rest]))).map((d) => service('fcd2', d)),
    );
    let decoded = 0;
    fuzz(frames, (payloads) => {
      if (decodeChecked(payloads)) decoded++;
    });
    assert.ok(decoded > 1_000, `the generator reaches successful decodes (${decoded})`);
  });

  it('Govee, Inkbird and iBeacon manufacturer data, mutated, under their own and random company ids', () => {
    const frames = fc.oneof(
      fc.tuple(fc.constantFrom(0xec88, 0x8801, 0x0001, 0x004c), mutatedBytes(fc.oneof(exactly(6), exactly(7), exactly(9), fc.constant(Uint8Array.of(1, 1, 3, 0x36, 0x26, 0x64))))).map(([id, d]) => manufacturer(id, d)),
      fc.tuple(fc.nat({ max: 0xffff }), mutatedBytes(exactly(7)), fc.constantFrom('sps', 'tps', 'x')).map(([id, d, name]) => manufacturer(id, d, name)),
      mutatedBytes(exactly(21).map((rest) => Uint8Array.from([0x02, 0x15, ...rest]))).map((d) => manufacturer(0x004c, d)),
      fc.tuple(fc.nat({ max: 0xffff }), fc.uint8Array({ maxLength: 30 })).map(([id, d]) => manufacturer(id, d)),
    );
    let decoded = 0;
    fuzz(frames, (payloads) => {
      if (decodeChecked(payloads)) decoded++;
    });
    assert.ok(decoded > 1_000, `the generator reaches successful decodes (${decoded})`);
  });
});
