import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, beforeEach, describe, it } from 'node:test';
import { AllowlistStore } from '../../../../main/sensors/ble/allowlist.js';
import type { Advertisement } from '../../../../main/sensors/ble/bluez.js';
import { hexToBytes } from '../../../../main/sensors/ble/decoders/bytes.js';
import { BTHOME_UUID, RUUVI_COMPANY_ID } from '../../../../main/sensors/ble/decoders/index.js';
import { BlePairing } from '../../../../main/sensors/ble/pairing.js';
import { silentLogger } from '../../../../main/log/logger.js';
import { UserError } from '../../../../main/shared/errors.js';
import { VECTORS } from '../../../fixtures/ble/bthome-seal.js';

const root = mkdtempSync(join(tmpdir(), 'fieldgate-ble-pairing-'));
after(() => rmSync(root, { recursive: true, force: true }));

function bthome(mac: string, hex: string, rssi: number, name?: string): Advertisement {
  return {
    kind: 'data',
    mac,
    rssi,
    devicePath: `/org/bluez/hci0/dev_${mac.replaceAll(':', '_')}`,
    adapterPath: '/org/bluez/hci0',
    serviceData: new Map([[BTHOME_UUID, hexToBytes(hex, 'test')]]),
    manufacturerData: new Map(),
    ...(name ? { name } : {}),
  };
}

function ruuvi(mac: string, rssi: number): Advertisement {
  return { ...bthome(mac, '', rssi), serviceData: new Map(), manufacturerData: new Map([[RUUVI_COMPANY_ID, hexToBytes(VECTORS.ruuviDf5, 'test')]]) };
}

const userError = (pattern: RegExp) => (error: unknown) => error instanceof UserError && pattern.test(error.message);

describe('BlePairing', () => {
  let now = 1_000_000;
  let store: AllowlistStore;
  let pairing: BlePairing;
  const changed: string[] = [];
  let n = 0;
  beforeEach(() => {
    now = 1_000_000;
    changed.length = 0;
    store = new AllowlistStore({ dir: join(root, `case-${n++}`) });
    store.load();
    pairing = new BlePairing({ store, clock: { now: () => now }, log: silentLogger, maxSessionMs: 60_000, onChange: (mac) => changed.push(mac) });
  });

  it('lists only what was heard during an open session, strongest first, with previews and the encrypted flag', () => {
    pairing.observe(bthome('11:11:11:11:11:11', '4002CA0903BF13', -40));
    assert.throws(() => pairing.nearby(), userError(/no BLE pairing session/));
    const session = pairing.startSession(10 * 60_000);
    assert.equal(session.expiresAt, new Date(now + 60_000).toISOString(), 'clamped to the configured window');
    pairing.observe(bthome('22:22:22:22:22:22', '4002CA0903BF13', -80, 'far'));
    pairing.observe(bthome(VECTORS.mac, VECTORS.encrypted1.slice(4), -50, 'secret'));
    pairing.observe(ruuvi('CB:B8:33:4C:88:4F', -60));
    pairing.observe({ ...bthome('33:33:33:33:33:33', '', -30), serviceData: new Map() });
    const nearby = pairing.nearby();
    assert.deepEqual(nearby.map((d) => [d.mac, d.rssi, d.format, d.encrypted]), [
      [VECTORS.mac, -50, 'bthome-v2', true],
      ['CB:B8:33:4C:88:4F', -60, 'ruuvi-df5', false],
      ['22:22:22:22:22:22', -80, 'bthome-v2', false],
    ]);
    assert.equal(nearby[0]?.preview, null);
    assert.deepEqual(nearby[2]?.preview, { temperature: { value: 25.06, unit: '°C' }, humidity: { value: 50.55, unit: '%' } });
    pairing.observe({ ...bthome('22:22:22:22:22:22', '', -20), kind: 'rssi', serviceData: new Map() });
    assert.equal(pairing.nearby()[0]?.mac, '22:22:22:22:22:22', 'RSSI-only updates re-sort the list');
    now += 60_000;
    assert.equal(pairing.session().active, false);
    assert.throws(() => pairing.nearby(), userError(/no BLE pairing session/));
  });

  it('checks the bind key against the latest captured advertisement before saving', () => {
    pairing.startSession();
    pairing.observe(bthome(VECTORS.mac, VECTORS.encrypted1.slice(4), -50, 'secret'));
    assert.throws(() => pairing.add({ mac: VECTORS.mac }), userError(/give its bind key/));
    assert.throws(() => pairing.add({ mac: VECTORS.mac, bindKey: VECTORS.wrongKey }), userError(/MIC check failed/));
    assert.throws(() => pairing.add({ mac: VECTORS.mac, bindKey: 'abcd' }), userError(/32 hex digits/));
    assert.deepEqual(store.list(), []);
    const saved = pairing.add({ mac: VECTORS.mac.toLowerCase(), bindKey: VECTORS.bindKey, id: 'freezer' });
    assert.deepEqual({ ...saved, addedAt: undefined }, { mac: VECTORS.mac, id: 'freezer', name: 'secret', format: 'bthome-v2', encrypted: true, addedAt: undefined });
    assert.deepEqual(changed, [VECTORS.mac]);
    assert.ok(!readFileSync(store.file, 'utf8').includes(VECTORS.bindKey));
    assert.equal(pairing.nearby()[0]?.allowlisted, true);
    assert.deepEqual(pairing.nearby()[0]?.preview, { temperature: { value: 25.06, unit: '°C' }, humidity: { value: 50.55, unit: '%' } });
  });

  it('refuses devices not heard in this session and keys for plaintext devices; removes devices', () => {
    pairing.startSession();
    assert.throws(() => pairing.add({ mac: '44:44:44:44:44:44' }), userError(/not heard during this pairing session/));
    assert.throws(() => pairing.add({ mac: 'nonsense' }), userError(/expected a MAC/));
    pairing.observe(ruuvi('CB:B8:33:4C:88:4F', -60));
    assert.throws(() => pairing.add({ mac: 'CB:B8:33:4C:88:4F', bindKey: VECTORS.bindKey }), userError(/unencrypted/));
    assert.equal(pairing.add({ mac: 'CB:B8:33:4C:88:4F' }).id, 'ble-cbb8334c884f');
    assert.equal(pairing.remove('cb:b8:33:4c:88:4f'), true);
    assert.equal(pairing.remove('cb:b8:33:4c:88:4f'), false);
    assert.deepEqual(pairing.list(), []);
  });
});
