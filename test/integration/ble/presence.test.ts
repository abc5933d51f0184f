// Beacons as presence sensors through BlueZ (dbusmock): a reading carries presence and the RSSI
// heard; RSSI-only updates count for beacons, but an unchanged payload gives at most one reading
// per 30 s. The clock is the only fake (the source's, so the window can pass without waiting).
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { Registry } from 'prom-client';
import { SqliteBuffer } from '../../../main/buffer/sqlite-buffer.js';
import { silentLogger } from '../../../main/log/logger.js';
import { AllowlistStore } from '../../../main/sensors/ble/allowlist.js';
import { BleSource } from '../../../main/sensors/ble/ble-source.js';
import { IDENTICAL_FRAME_WINDOW_MS } from '../../../main/sensors/ble/freshness.js';
import { systemClock } from '../../../main/shared/clock.js';
import { bleSchema } from '../../../main/shared/config/ble.js';
import type { Reading } from '../../../main/shared/reading.js';
import type { BluezMock } from '../../helpers/dbus.js';
import { bufferedReadings, startBleRig, waitForReadings, type BleRig } from './fixture.js';

const IBEACON_MAC = 'DD:34:02:05:5C:4D';
const THERMOMETER_MAC = 'A4:C1:38:DD:DB:F8';
const IBEACON = { manufacturerData: { 0x004c: '0215426c7565436861726d426561636f6e730efe1355c5' } };
const GOVEE = { manufacturerData: { 0xec88: '00034db26400' } };

describe('beacons as presence sensors', { concurrency: false }, () => {
  const root = mkdtempSync(join(tmpdir(), 'fieldgate-ble-presence-'));
  let offset = 0;
  const clock = { now: () => systemClock.now() + offset };
  let rig: BleRig;
  let mock: BluezMock;
  let buffer: SqliteBuffer;
  let source: BleSource;
  let beacon: string;
  let thermometer: string;

  before(async () => {
    rig = await startBleRig(root, clock);
    ({ mock, buffer } = rig);
    await mock.addAdapter('hci0');
    const stateDir = join(root, 'ble');
    const store = new AllowlistStore({ dir: stateDir });
    store.load();
    store.upsert({ mac: IBEACON_MAC, id: 'tag', name: 'tag', format: 'ibeacon', addedAt: Date.now() });
    store.upsert({ mac: THERMOMETER_MAC, id: 'fridge', name: 'fridge', format: 'govee', addedAt: Date.now() });
    source = new BleSource({ config: bleSchema.parse({ noDataTimeoutSeconds: 3600 }), stateDir, sink: buffer, log: silentLogger, clock, metrics: new Registry() });
    await source.start();
    beacon = await mock.addDevice('hci0', IBEACON_MAC, 'BlueCharm_135727');
    thermometer = await mock.addDevice('hci0', THERMOMETER_MAC, 'GVH5075_DBF8');
  });

  after(async () => {
    await source?.stop();
    await rig?.stop();
    rmSync(root, { recursive: true, force: true });
  });

  const readings = (sensorId: string): Reading[] => bufferedReadings(buffer, sensorId);
  const waitForCount = (sensorId: string, count: number): Promise<Reading[]> => waitForReadings(buffer, sensorId, count);

  it('a beacon reading is presence plus the RSSI it was heard with', async () => {
    await mock.advertise(beacon, -70, IBEACON);
    await mock.advertise(thermometer, -70, GOVEE);
    const [first] = await waitForCount('tag', 1);
    assert.deepEqual(first?.values, { presence: { value: 1, unit: 'bool' }, tx_power: { value: -59, unit: 'dBm' }, rssi: { value: -70, unit: 'dBm' } });
    await waitForCount('fridge', 1);
  });

  it('RSSI-only updates give a beacon a new reading once the 30 s window has passed; other sensors ignore them', async () => {
    await mock.setRssi(beacon, -60);
    await mock.setRssi(thermometer, -60);
    await sleep(300);
    assert.equal(readings('tag').length, 1, 'within the window the unchanged payload is a repeat');
    offset += IDENTICAL_FRAME_WINDOW_MS + 1_000;
    await mock.setRssi(beacon, -50);
    await mock.setRssi(thermometer, -50);
    const [, second] = await waitForCount('tag', 2);
    assert.deepEqual(second?.values.rssi, { value: -50, unit: 'dBm' });
    await sleep(300);
    assert.equal(readings('fridge').length, 1, 'a thermometer is read on new payloads only');
  });
});
