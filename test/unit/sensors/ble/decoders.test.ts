import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { decodeBthome } from '../../../../main/sensors/ble/decoders/bthome.js';
import { bthomeNonce } from '../../../../main/sensors/ble/decoders/bthome-crypto.js';
import { hexToBytes, macToBytes } from '../../../../main/sensors/ble/decoders/bytes.js';
import { BTHOME_UUID, RUUVI_COMPANY_ID, decodePayloads, expandUuid } from '../../../../main/sensors/ble/decoders/index.js';
import { decodeRuuvi } from '../../../../main/sensors/ble/decoders/ruuvi.js';
import { DecodeError, type DecodeFailure } from '../../../../main/sensors/ble/decoders/types.js';
import type { Values } from '../../../../main/shared/reading.js';
import { RUUVI_DF5_VALUES, RUUVI_DF6_VALUES, VECTORS, sealBthome } from '../../../fixtures/ble/bthome-seal.js';

const bytes = (hex: string): Uint8Array => hexToBytes(hex, 'test');
const keying = { mac: macToBytes(VECTORS.mac), bindKey: bytes(VECTORS.bindKey) };

function assertFails(fn: () => unknown, reason: DecodeFailure): void {
  assert.throws(fn, (error: unknown) => {
    assert.ok(error instanceof DecodeError, `expected DecodeError, got ${String(error)}`);
    assert.equal(error.reason, reason, error.message);
    return true;
  });
}

describe('BTHome v2 plain vectors', () => {
  const table: Array<{ hex: string; values: Values; packetId?: number }> = [
    { hex: '4002CA0903BF13', values: { temperature: { value: 25.06, unit: '°C' }, humidity: { value: 50.55, unit: '%' } } },
    {
      hex: '400009015D025D0903B718',
      packetId: 9,
      values: { battery: { value: 93, unit: '%' }, temperature: { value: 23.97, unit: '°C' }, humidity: { value: 63.27, unit: '%' } },
    },
    { hex: '40005201643A01', packetId: 82, values: { battery: { value: 100, unit: '%' }, button: { value: 1, unit: 'event' } } },
    { hex: '4004138A01', values: { pressure: { value: 1008.83, unit: 'hPa' } } },
  ];
  for (const row of table) {
    it(`decodes ${row.hex}`, () => {
      const decoded = decodeBthome(bytes(row.hex));
      assert.deepEqual(decoded.values, row.values);
      assert.equal(decoded.encrypted, false);
      assert.equal(decoded.repeatId, row.packetId);
      assert.equal(decoded.format, 'bthome-v2');
    });

    it(`${row.hex} cut at every byte offset either decodes a prefix of the values or says truncated`, () => {
      const full = bytes(row.hex);
      for (let length = 1; length < full.length; length++) {
        try {
          const partial = decodeBthome(full.subarray(0, length));
          for (const [quantity, measurement] of Object.entries(partial.values)) assert.deepEqual(measurement, row.values[quantity]);
          assert.ok(Object.keys(partial.values).length < Object.keys(row.values).length || row.packetId !== undefined);
        } catch (error) {
          assert.ok(error instanceof DecodeError && error.reason === 'truncated', `length ${length}: ${String(error)}`);
        }
      }
    });
  }

  it('stops at the first unknown object id and keeps what came before', () => {
    assert.deepEqual(decodeBthome(bytes('4002CA09FE0164')).values, { temperature: { value: 25.06, unit: '°C' } });
  });

  it('numbers repeated quantities and decodes negative temperatures', () => {
    assert.deepEqual(decodeBthome(bytes('4002F6FF0218FC')).values, {
      temperature: { value: -0.1, unit: '°C' },
      temperature_2: { value: -10, unit: '°C' },
    });
  });

  it('reports a button event of 0 (no event) as absent', () => {
    assert.deepEqual(decodeBthome(bytes('4001643A00')).values, { battery: { value: 100, unit: '%' } });
  });

  it('rejects other BTHome versions and empty data', () => {
    assertFails(() => decodeBthome(bytes('2002CA09')), 'unknown-format');
    assertFails(() => decodeBthome(new Uint8Array(0)), 'truncated');
  });
});

describe('BTHome v2 encrypted vectors', () => {
  it('decrypts both published frames with the bind key', () => {
    const first = decodeBthome(bytes(VECTORS.encrypted1), keying);
    assert.deepEqual(first.values, { temperature: { value: 25.06, unit: '°C' }, humidity: { value: 50.55, unit: '%' } });
    assert.equal(first.encrypted, true);
    assert.equal(first.counter, 0x00112233);
    const second = decodeBthome(bytes(VECTORS.encrypted2), keying);
    assert.deepEqual(second.values, first.values);
    assert.equal(second.counter, 0x33221100);
  });

  it('builds the published nonce', () => {
    assert.equal(Buffer.from(bthomeNonce(macToBytes(VECTORS.mac), 0x41, bytes('33221100'))).toString('hex'), '5448e68f80a5d2fc4133221100');
  });

  it('the test encryptor reproduces the published frames (known answer)', () => {
    const sealed = sealBthome({ mac: VECTORS.mac, bindKey: VECTORS.bindKey, plaintextHex: VECTORS.encryptedPlaintext, counter: 0x00112233 });
    assert.equal(`d2fc${sealed}`, VECTORS.encrypted1);
  });

  it('accepts the frame without the UUID prefix, as BlueZ delivers it', () => {
    assert.equal(decodeBthome(bytes(VECTORS.encrypted1.slice(4)), keying).counter, 0x00112233);
  });

  it('fails authentication with the wrong key, the wrong MAC, or any tampered byte', () => {
    assertFails(() => decodeBthome(bytes(VECTORS.encrypted1), { ...keying, bindKey: bytes(VECTORS.wrongKey) }), 'mic-failure');
    assertFails(() => decodeBthome(bytes(VECTORS.encrypted1), { ...keying, mac: macToBytes('54:48:E6:8F:80:A6') }), 'mic-failure');
    const frame = bytes(VECTORS.encrypted1.slice(4));
    for (let i = 1; i < frame.length; i++) {
      const tampered = Uint8Array.from(frame);
      tampered[i] = (tampered[i] as number) ^ 0x01;
      assertFails(() => decodeBthome(tampered, keying), 'mic-failure');
    }
  });

  it('needs the key and the MAC, and a long enough frame', () => {
    assertFails(() => decodeBthome(bytes(VECTORS.encrypted1)), 'key-required');
    assertFails(() => decodeBthome(bytes(VECTORS.encrypted1), { bindKey: keying.bindKey }), 'key-required');
    assertFails(() => decodeBthome(bytes('41e445f3c9'), keying), 'truncated');
    assertFails(() => decodeBthome(bytes(VECTORS.encrypted1), { ...keying, bindKey: bytes('0011') }), 'malformed');
  });
});

describe('Ruuvi vectors', () => {
  it('decodes DF5', () => {
    const decoded = decodeRuuvi(bytes(VECTORS.ruuviDf5));
    assert.equal(decoded.format, 'ruuvi-df5');
    assert.deepEqual(decoded.values, RUUVI_DF5_VALUES);
    assert.equal(decoded.repeatId, 205);
    assert.equal(decoded.payloadMac, 'CB:B8:33:4C:88:4F');
  });

  it('decodes DF6', () => {
    const decoded = decodeRuuvi(bytes(VECTORS.ruuviDf6));
    assert.equal(decoded.format, 'ruuvi-df6');
    assert.deepEqual(decoded.values, RUUVI_DF6_VALUES);
    assert.equal(decoded.repeatId, 205);
    assert.equal(decoded.payloadMac, '4C:88:4F');
  });

  it('takes the VOC and NOx lowest bits from the flags byte', () => {
    const flagged = bytes(VECTORS.ruuviDf6);
    flagged[16] = 0b1100_0000;
    const values = decodeRuuvi(flagged).values;
    assert.deepEqual([values.voc_index?.value, values.nox_index?.value], [11, 3]);
  });

  it('reports "not available" markers as absent', () => {
    const df5 = bytes('058000FFFFFFFF800080008000FFFFFFFFFFFFFFFFFFFFFF');
    const decoded5 = decodeRuuvi(df5);
    assert.deepEqual(decoded5.values, {});
    assert.equal(decoded5.repeatId, undefined);
    assert.equal(decoded5.payloadMac, undefined);
    const df6 = bytes('068000FFFFFFFFFFFFFFFFFFFFFFFFFF00FFFFFF');
    df6[16] = 0b1100_0000;
    const decoded6 = decodeRuuvi(df6);
    assert.deepEqual(decoded6.values, {});
    assert.equal(decoded6.payloadMac, undefined);
  });

  it('says truncated for every cut short of the full length', () => {
    for (const vector of [VECTORS.ruuviDf5, VECTORS.ruuviDf6]) {
      const full = bytes(vector);
      for (let length = 0; length < full.length; length++) assertFails(() => decodeRuuvi(full.subarray(0, length)), 'truncated');
    }
  });

  it('rejects unknown data formats', () => {
    assertFails(() => decodeRuuvi(bytes('0317014535')), 'unknown-format');
  });
});

describe('payload dispatch', () => {
  it('picks BTHome service data or Ruuvi manufacturer data and rejects anything else', () => {
    const bthome = decodePayloads({ serviceData: new Map([[BTHOME_UUID, bytes('4002CA09')]]), manufacturerData: new Map() });
    assert.equal(bthome.format, 'bthome-v2');
    const ruuvi = decodePayloads({ serviceData: new Map(), manufacturerData: new Map([[RUUVI_COMPANY_ID, bytes(VECTORS.ruuviDf5)]]) });
    assert.equal(ruuvi.format, 'ruuvi-df5');
    // Apple data that is not an iBeacon record (a "nearby" record) is not a known payload.
    assertFails(() => decodePayloads({ serviceData: new Map(), manufacturerData: new Map([[0x004c, bytes('1005031c')]]) }), 'unknown-format');
  });

  it('expands short UUIDs', () => {
    assert.equal(expandUuid('FCD2'), BTHOME_UUID);
    assert.equal(expandUuid('0xfcd2'), BTHOME_UUID);
    assert.equal(expandUuid(BTHOME_UUID.toUpperCase()), BTHOME_UUID);
    assertFails(() => expandUuid('fcd'), 'malformed');
  });
});
