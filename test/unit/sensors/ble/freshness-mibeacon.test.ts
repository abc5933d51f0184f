// Encrypted MiBeacon frames get the counter, replay and downgrade rules of encrypted BTHome.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { hexToBytes } from '../../../../main/sensors/ble/decoders/bytes.js';
import { decodeMiBeacon } from '../../../../main/sensors/ble/decoders/mibeacon.js';
import { FreshnessGate } from '../../../../main/sensors/ble/freshness.js';
import { MIBEACON_VECTOR, sealMiBeacon } from '../../../fixtures/ble/mibeacon-seal.js';

const MAC = MIBEACON_VECTOR.mac;
const keying = { bindKey: hexToBytes(MIBEACON_VECTOR.bindKey, 'key') };

function frame(extCounter: number, frameCounter: number, objectsHex = '061002d301'): string {
  return sealMiBeacon({ mac: MAC, bindKey: MIBEACON_VECTOR.bindKey, productId: 0x055b, frameCounter, extCounter, objectsHex });
}

function judge(gate: FreshnessGate, hex: string, keyed = true, receivedAt = 0): string {
  const decoded = decodeMiBeacon(hexToBytes(hex, 'frame'), keying);
  return gate.judge({ mac: MAC, decoded, keyed, frameHex: hex, receivedAt });
}

describe('FreshnessGate with encrypted MiBeacon', () => {
  it('rising counters are fresh; older ones stale; the same counter with other bytes a replay; the same frame a repeat', () => {
    const gate = new FreshnessGate();
    assert.equal(judge(gate, frame(0x26, 0x50)), 'fresh');
    assert.equal(judge(gate, frame(0x26, 0x51)), 'fresh');
    assert.equal(judge(gate, frame(0x26, 0x51)), 'repeat');
    assert.equal(judge(gate, frame(0x26, 0x51, '061002d401')), 'replay');
    assert.equal(judge(gate, frame(0x26, 0x50)), 'stale');
    assert.equal(judge(gate, frame(0x27, 0x00)), 'fresh', 'the extended counter carries the frame counter over');
    assert.equal(judge(gate, frame(0x00, 0x01)), 'stale', 'a counter reset is refused until re-paired');
  });

  it('a plaintext frame with values from a keyed device is a downgrade; the "I am here" frame without values is no-data', () => {
    const gate = new FreshnessGate();
    assert.equal(judge(gate, frame(1, 1)), 'fresh');
    // MiBeacon v3 plaintext with temperature and humidity (ble_monitor's LYWSD03MMC vector).
    assert.equal(judge(gate, '50305b05034c94b438c1a40d10041001ea01'), 'downgrade');
    assert.equal(judge(gate, '30585b05bf6b872f38c1a408'), 'no-data');
    assert.deepEqual(gate.saved(MAC), { counter: 257 }, 'neither touched the counter');
    assert.equal(judge(gate, frame(1, 1)), 'repeat');
  });
});
