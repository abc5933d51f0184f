// Property tests for the BLE decoders: BTHome v2 (plain and AES-CCM sealed) and Ruuvi DF5/DF6.
// Every input decodes or throws DecodeError with one of the README's reasons; nothing else.
import assert from 'node:assert/strict';
import { createCipheriv } from 'node:crypto';
import { describe, it } from 'node:test';
import fc from 'fast-check';
import { bthomeNonce } from '../../../main/sensors/ble/decoders/bthome-crypto.js';
import { BTHOME_OBJECTS } from '../../../main/sensors/ble/decoders/bthome-objects.js';
import { BTHOME_UUID, RUUVI_COMPANY_ID, decodePayloads } from '../../../main/sensors/ble/decoders/index.js';
import { DecodeError } from '../../../main/sensors/ble/decoders/types.js';
import { decodeChecked } from './ble-decode-check.js';
import { fuzz, mutatedBytes } from './harness.js';

const MAC = Uint8Array.from([0x54, 0x48, 0xe6, 0x8f, 0x80, 0xa5]);
const KEY = Buffer.from('231d39c1d7cc1ab1aee224cd096db932', 'hex');

const objectIds = [...BTHOME_OBJECTS.keys()];
/** A run of BTHome objects that mostly have the right sizes, so decoding reaches deep. */
const bthomeObjects = fc
  .array(
    fc.oneof(
      fc.constantFrom(...objectIds).chain((id) => {
        const object = BTHOME_OBJECTS.get(id);
        const size = object?.size === 'prefixed' ? undefined : object?.size ?? 1;
        return size === undefined
          ? fc.uint8Array({ maxLength: 12 }).map((data) => [id, data.length, ...data])
          : fc.uint8Array({ minLength: size, maxLength: size }).map((data) => [id, ...data]);
      }),
      fc.integer({ min: 0, max: 255 }).map((id) => [id]),
    ),
    { maxLength: 10 },
  )
  .map((parts) => parts.flat());

const plainFrame = bthomeObjects.map((objects) => Uint8Array.from([0x40, ...objects]));

function seal(info: number, plaintext: number[], counter: number): Uint8Array {
  const counterBytes = Buffer.alloc(4);
  counterBytes.writeUInt32LE(counter >>> 0);
  const cipher = createCipheriv('aes-128-ccm', KEY, bthomeNonce(MAC, info, counterBytes), { authTagLength: 4 });
  cipher.setAAD(new Uint8Array(0), { plaintextLength: plaintext.length });
  const ciphertext = Buffer.concat([cipher.update(Uint8Array.from(plaintext)), cipher.final()]);
  return Uint8Array.from([info, ...ciphertext, ...counterBytes, ...cipher.getAuthTag()]);
}
const sealedFrame = fc.tuple(bthomeObjects, fc.nat()).map(([objects, counter]) => seal(0x41, objects, counter));

function ruuviFrame(format: 5 | 6): fc.Arbitrary<Uint8Array> {
  return fc.uint8Array({ minLength: format === 5 ? 23 : 19, maxLength: format === 5 ? 23 : 19 }).map((rest) => Uint8Array.from([format, ...rest]));
}

const keyings = fc.constantFrom({}, { mac: MAC }, { bindKey: KEY }, { mac: MAC, bindKey: KEY }, { mac: MAC, bindKey: KEY.subarray(0, 15) });

describe('fuzz: BLE payloads', () => {
  it('BTHome service data: plain and sealed frames mutated, with and without keys', () => {
    const serviceData = fc.oneof(
      mutatedBytes(plainFrame),
      mutatedBytes(sealedFrame),
      mutatedBytes(plainFrame.map((frame) => Uint8Array.from([0xd2, 0xfc, ...frame]))),
      fc.uint8Array({ maxLength: 40 }),
    );
    let decoded = 0;
    fuzz(fc.tuple(serviceData, keyings), ([data, keying]) => {
      if (decodeChecked({ serviceData: new Map([[BTHOME_UUID, data]]), manufacturerData: new Map() }, keying)) decoded++;
    });
    assert.ok(decoded > 1_000, `the generator reaches successful decodes (${decoded})`);
  });

  it('a sealed frame with the right key always opens, and any single bit flip is refused', () => {
    // An empty plaintext makes a 9-byte frame, which is refused as truncated before the MIC is checked.
    const nonEmpty = sealedFrame.filter((frame) => frame.length >= 10);
    fuzz(fc.tuple(nonEmpty, fc.nat(), fc.integer({ min: 0, max: 7 })), ([frame, at, bit]) => {
      const data = (bytes: Uint8Array) => ({ serviceData: new Map([[BTHOME_UUID, bytes]]), manufacturerData: new Map<number, Uint8Array>() });
      const opened = decodeChecked(data(frame), { mac: MAC, bindKey: KEY });
      assert.ok(opened === undefined || opened.encrypted, 'decodes as encrypted, or the plaintext objects are truncated');
      const flipped = Uint8Array.from(frame);
      const index = 1 + (at % (flipped.length - 1));
      flipped[index] = (flipped[index] as number) ^ (1 << bit);
      try {
        decodePayloads(data(flipped), { mac: MAC, bindKey: KEY });
        assert.fail('a flipped sealed frame decoded');
      } catch (error) {
        assert.ok(error instanceof DecodeError && error.reason === 'mic-failure', String(error));
      }
    });
  });

  it('Ruuvi manufacturer data: DF5/DF6 mutated, other formats, any length', () => {
    const payload = fc.oneof(mutatedBytes(ruuviFrame(5)), mutatedBytes(ruuviFrame(6)), fc.uint8Array({ maxLength: 40 }));
    const company = fc.oneof(fc.constant(RUUVI_COMPANY_ID), fc.integer({ min: 0, max: 0xffff }));
    fuzz(fc.tuple(payload, company), ([data, id]) => {
      decodeChecked({ serviceData: new Map(), manufacturerData: new Map([[id, data]]) }, {});
    });
  });
});
