// Pairing an encrypted MiBeacon device: listed as encrypted mibeacon, its data-less frames do not
// replace the captured data frame, and its bind key is checked on that frame before it is saved.
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { silentLogger } from '../../../../main/log/logger.js';
import { AllowlistStore } from '../../../../main/sensors/ble/allowlist.js';
import type { Advertisement } from '../../../../main/sensors/ble/bluez.js';
import { hexToBytes } from '../../../../main/sensors/ble/decoders/bytes.js';
import { MIBEACON_UUID } from '../../../../main/sensors/ble/decoders/index.js';
import { BlePairing } from '../../../../main/sensors/ble/pairing.js';
import { UserError } from '../../../../main/shared/errors.js';
import { MIBEACON_VECTOR } from '../../../fixtures/ble/mibeacon-seal.js';

const root = mkdtempSync(join(tmpdir(), 'fieldgate-ble-pairing-mi-'));
after(() => rmSync(root, { recursive: true, force: true }));

function mibeacon(hex: string): Advertisement {
  return {
    kind: 'data',
    mac: MIBEACON_VECTOR.mac,
    rssi: -55,
    name: 'LYWSD03MMC',
    devicePath: '/org/bluez/hci0/dev_A4_C1_38_02_83_F4',
    adapterPath: '/org/bluez/hci0',
    serviceData: new Map([[MIBEACON_UUID, hexToBytes(hex, 'test')]]),
    manufacturerData: new Map(),
  };
}

const userError = (pattern: RegExp) => (error: unknown) => error instanceof UserError && pattern.test(error.message);
/** The same device's frame without objects (frame control 0x5830: MAC and capability only). */
const HERE_FRAME = '30585b0551f4830238c1a408';

describe('BlePairing with encrypted MiBeacon', () => {
  it('lists it as encrypted mibeacon and saves it only with the bind key that opens its data frame', () => {
    const store = new AllowlistStore({ dir: join(root, 'state') });
    store.load();
    const pairing = new BlePairing({ store, clock: { now: () => 1_000 }, log: silentLogger, maxSessionMs: 60_000 });
    pairing.startSession();
    pairing.observe(mibeacon(MIBEACON_VECTOR.frame));
    pairing.observe(mibeacon(HERE_FRAME));
    const [device] = pairing.nearby();
    assert.deepEqual([device?.format, device?.encrypted, device?.problem], ['mibeacon', true, null]);
    assert.throws(() => pairing.add({ mac: MIBEACON_VECTOR.mac }), userError(/sends encrypted mibeacon: give its bind key/));
    assert.throws(() => pairing.add({ mac: MIBEACON_VECTOR.mac, bindKey: '814aac74c4f17b6c1581e1ab87816b99' }), userError(/MIC check failed/));
    const saved = pairing.add({ mac: MIBEACON_VECTOR.mac, bindKey: MIBEACON_VECTOR.bindKey });
    assert.deepEqual([saved.format, saved.encrypted], ['mibeacon', true]);
    assert.deepEqual(store.get(MIBEACON_VECTOR.mac)?.bindKey, hexToBytes(MIBEACON_VECTOR.bindKey, 'key'));
  });
});
