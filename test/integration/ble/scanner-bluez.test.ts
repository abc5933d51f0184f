import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { Registry } from 'prom-client';
import { SqliteBuffer } from '../../../main/buffer/sqlite-buffer.js';
import { silentLogger } from '../../../main/log/logger.js';
import { AllowlistStore } from '../../../main/sensors/ble/allowlist.js';
import { BleSource, type BleAlert } from '../../../main/sensors/ble/ble-source.js';
import { BTHOME_UUID } from '../../../main/sensors/ble/decoders/index.js';
import { systemClock } from '../../../main/shared/clock.js';
import { bleSchema } from '../../../main/shared/config/ble.js';
import { UserError } from '../../../main/shared/errors.js';
import type { Reading } from '../../../main/shared/reading.js';
import type { BluezMock, PrivateBus } from '../../helpers/dbus.js';
import { bufferedReadings, startBleRig, waitFor, waitForReadings, type BleRig } from './fixture.js';
import { VECTORS, sealBthome } from '../../fixtures/ble/bthome-seal.js';

const RUUVI = 0x0499;
const PLAIN_MAC = 'A4:C1:38:00:00:01';
const RUUVI_MAC = 'CB:B8:33:4C:88:4F';
const STRANGER_MAC = 'A4:C1:38:00:00:99';

const root = mkdtempSync(join(tmpdir(), 'fieldgate-ble-it-'));
let rig: BleRig;
let bus: PrivateBus;
let mock: BluezMock;
let buffer: SqliteBuffer;

before(async () => {
  rig = await startBleRig(root);
  ({ bus, mock, buffer } = rig);
});

after(async () => {
  await rig?.stop();
  rmSync(root, { recursive: true, force: true });
});

const readings = (sensorId: string): Reading[] => bufferedReadings(buffer, sensorId);
const waitForCount = (sensorId: string, count: number): Promise<Reading[]> => waitForReadings(buffer, sensorId, count);

function temperatures(sensorId: string): Array<number | undefined> {
  return readings(sensorId).map((r) => r.values.temperature?.value);
}

function newSource(stateDir: string, metrics = new Registry(), alerts: BleAlert[] = []): BleSource {
  return new BleSource({
    config: bleSchema.parse({ noDataTimeoutSeconds: 3600 }),
    stateDir,
    sink: buffer,
    log: silentLogger,
    clock: systemClock,
    metrics,
    onAlert: (alert) => alerts.push(alert),
  });
}

async function outcomeCounts(metrics: Registry): Promise<Record<string, number>> {
  const values = (await metrics.getSingleMetric('fieldgate_ble_advertisements_total')?.get())?.values ?? [];
  return Object.fromEntries(values.map((v) => [String(v.labels.outcome), v.value]));
}

/** BTHome temperature object (0x02, sint16 little-endian, 0.01 °C). */
function celsius(degrees: number): string {
  const bytes = Buffer.alloc(2);
  bytes.writeInt16LE(Math.round(degrees * 100));
  return `02${bytes.toString('hex')}`;
}

function allowlist(stateDir: string, entries: Array<{ mac: string; id: string; format: 'bthome-v2' | 'ruuvi-df5' }>): void {
  const store = new AllowlistStore({ dir: stateDir });
  store.load();
  for (const entry of entries) store.upsert({ ...entry, name: entry.id, addedAt: Date.now() });
}

const bthome = (hex: string) => ({ serviceData: { [BTHOME_UUID]: hex } });

describe('BLE source on a private bus with the dbusmock bluez5 template', { concurrency: false }, () => {
  const stateDir = join(root, 'state');
  let source: BleSource;
  let devicePath: string;
  let secretPath: string;

  it('starts with no adapter, then scans once one is added', async () => {
    allowlist(stateDir, [
      { mac: PLAIN_MAC, id: 'plain', format: 'bthome-v2' },
      { mac: RUUVI_MAC, id: 'ruuvi', format: 'ruuvi-df5' },
    ]);
    source = newSource(stateDir);
    await source.start();
    await waitFor('connected to bluetoothd', () => source.scanStatus().bluetoothd);
    assert.deepEqual(source.scanStatus().adapters, []);
    const adapter = await mock.addAdapter('hci0');
    await waitFor('discovery on hci0', () => mock.discovering(adapter));
    assert.equal(await mock.methodCalls(adapter, 'SetDiscoveryFilter'), 1);
    devicePath = await mock.addDevice('hci0', PLAIN_MAC, 'plain-sensor');
    await mock.advertise(devicePath, -70, bthome('400009015D025D0903B718'));
    const [reading] = await waitForCount('plain', 1);
    assert.deepEqual(reading?.values, {
      battery: { value: 93, unit: '%' },
      temperature: { value: 23.97, unit: '°C' },
      humidity: { value: 63.27, unit: '%' },
    });
    await source.stop();
  });

  it('reads a device cached before the scan started', async () => {
    await mock.advertise(devicePath, -65, bthome('40000A02CA0903BF13'));
    source = newSource(stateDir);
    await source.start();
    await waitForCount('plain', 2);
    assert.deepEqual(temperatures('plain'), [23.97, 25.06]);
    const online = source.sensors().find((s) => s.sensorId === 'plain');
    assert.equal(online?.online, true);
  });

  it('reads a new device, drops repeated Ruuvi sequences and RSSI-only changes, ignores strangers', async () => {
    const ruuvi = await mock.addDevice('hci0', RUUVI_MAC, 'Ruuvi 884F');
    const stranger = await mock.addDevice('hci0', STRANGER_MAC, 'stranger');
    await mock.advertise(stranger, -30, bthome('4002CA09'));
    await mock.advertise(ruuvi, -55, { manufacturerData: { [RUUVI]: VECTORS.ruuviDf5 } });
    const [first] = await waitForCount('ruuvi', 1);
    assert.equal(first?.values.pressure?.value, 100044);
    assert.equal(first?.values.acceleration_z?.value, 1.036);
    await mock.advertise(ruuvi, -54, { manufacturerData: { [RUUVI]: VECTORS.ruuviDf5 } });
    await mock.setRssi(ruuvi, -50);
    await mock.setRssi(devicePath, -49);
    const next = VECTORS.ruuviDf5.slice(0, 32) + '00CE' + VECTORS.ruuviDf5.slice(36);
    await mock.advertise(ruuvi, -53, { manufacturerData: { [RUUVI]: next } });
    await waitForCount('ruuvi', 2);
    await sleep(200);
    assert.equal(readings('ruuvi').length, 2, 'the repeated sequence 205 and RSSI changes added nothing');
    assert.equal(readings('plain').length, 2);
    assert.equal(readings('ble-a4c138000099').length, 0);
    await waitFor('the latest RSSI in the status', () => source.sensors().find((s) => s.sensorId === 'ruuvi')?.rssi === -53);
    assert.equal(source.sensors().find((s) => s.sensorId === 'plain')?.rssi, -49, 'an RSSI-only change counts for the status');
    assert.equal(source.sensors().some((s) => s.sensorId === 'ble-a4c138000099'), false);
  });

  it('follows a device that is removed and added again', async () => {
    const known = source.scanStatus().devices;
    await mock.removeDevice(devicePath);
    await waitFor('device forgotten', () => source.scanStatus().devices === known - 1);
    devicePath = await mock.addDevice('hci0', PLAIN_MAC, 'plain-sensor');
    await mock.advertise(devicePath, -60, bthome('40000B02D007'));
    await waitForCount('plain', 3);
    assert.equal(temperatures('plain')[2], 20);
  });

  it('follows an adapter that is unplugged and plugged in again', async () => {
    await mock.removeAdapter('hci0');
    await waitFor('adapter gone', () => source.scanStatus().adapters.length === 0);
    const adapter = await mock.addAdapter('hci0');
    await waitFor('discovery on the new adapter', () => mock.discovering(adapter));
    devicePath = await mock.addDevice('hci0', PLAIN_MAC, 'plain-sensor');
    await mock.advertise(devicePath, -60, bthome('40000D02C409'));
    await waitForCount('plain', 4);
    assert.equal(temperatures('plain')[3], 25);
  });

  it('re-arms discovery after bluetoothd is killed and restarted', async () => {
    await mock.kill();
    await waitFor('bluetoothd gone', () => !source.scanStatus().bluetoothd);
    await mock.start();
    const adapter = await mock.addAdapter('hci0');
    await waitFor('discovery re-armed on the new bluetoothd', () => mock.discovering(adapter));
    devicePath = await mock.addDevice('hci0', PLAIN_MAC, 'plain-sensor');
    await mock.advertise(devicePath, -60, bthome('40000E02E803'));
    await waitForCount('plain', 5);
    assert.equal(temperatures('plain')[4], 10);
  });

  it('reconnects after the system bus itself restarts', async () => {
    await mock.kill();
    await bus.restart();
    mock.forgetConnection();
    await waitFor('connection loss noticed', () => !source.scanStatus().connected);
    await mock.start();
    const adapter = await mock.addAdapter('hci0');
    await waitFor('discovery on the restarted bus', () => mock.discovering(adapter));
    devicePath = await mock.addDevice('hci0', PLAIN_MAC, 'plain-sensor');
    await mock.advertise(devicePath, -60, bthome('40000F02D007'));
    await waitForCount('plain', 6);
    assert.equal(temperatures('plain')[5], 20);
  });

  it('pairs an encrypted device and rejects a wrong key, replayed counters and a downgrade', async () => {
    const metrics = new Registry();
    await source.stop();
    source = newSource(stateDir, metrics);
    await source.start();
    await waitFor('discovery', () => source.scanStatus().adapters[0]?.discovering);
    const secret = await mock.addDevice('hci0', VECTORS.mac, 'secret');
    secretPath = secret;
    source.pairing.startSession(60_000);
    await mock.advertise(secret, -45, bthome(VECTORS.encrypted1.slice(4)));
    const seen = await waitFor('the device in the pairing list', () => source.pairing.nearby().find((d) => d.mac === VECTORS.mac));
    assert.equal(seen.encrypted, true);
    assert.equal(seen.preview, null);
    assert.throws(() => source.pairing.add({ mac: VECTORS.mac, bindKey: VECTORS.wrongKey }), (e: unknown) => e instanceof UserError && /MIC/.test(e.message));
    assert.equal(source.pairing.list().some((d) => d.mac === VECTORS.mac), false);
    source.pairing.add({ mac: VECTORS.mac, id: 'secret', bindKey: VECTORS.bindKey });
    source.pairing.stopSession();

    const seal = (counter: number, plaintextHex: string) => sealBthome({ mac: VECTORS.mac, bindKey: VECTORS.bindKey, plaintextHex, counter });
    await mock.advertise(secret, -45, bthome(VECTORS.encrypted1.slice(4)));
    await waitForCount('secret', 1);
    const newer = seal(0x00112240, '02D007');
    await mock.advertise(secret, -45, bthome(newer));
    await waitForCount('secret', 2);
    await mock.advertise(secret, -45, bthome(VECTORS.encrypted1.slice(4)));
    await mock.advertise(secret, -45, bthome(newer));
    await mock.advertise(secret, -45, bthome('4002CA0903BF13'));
    await mock.advertise(secret, -45, bthome(seal(0x00112240, '02E803')));
    await mock.advertise(secret, -45, bthome(seal(0x00112241, '02B80B')));
    await waitForCount('secret', 3);
    assert.deepEqual(temperatures('secret'), [25.06, 20, 30]);
    const outcomes = Object.fromEntries(
      (await metrics.getSingleMetric('fieldgate_ble_advertisements_total')?.get())?.values.map((v) => [v.labels.outcome, v.value]) ?? [],
    );
    assert.deepEqual(
      { stale: outcomes.stale, repeat: outcomes.repeat, downgrade: outcomes.downgrade, replay: outcomes.replay },
      { stale: 1, repeat: 1, downgrade: 1, replay: 1 },
    );
    await source.stop();

    // The accepted counter survives a restart: the first frame cannot be replayed afterwards.
    source = newSource(stateDir);
    await source.start();
    await waitFor('discovery after restart', () => source.scanStatus().adapters[0]?.discovering);
    await mock.advertise(secret, -45, bthome(VECTORS.encrypted1.slice(4)));
    await mock.advertise(secret, -45, bthome(seal(0x00112242, '020000')));
    await waitForCount('secret', 4);
    assert.deepEqual(temperatures('secret'), [25.06, 20, 30, 0]);
    await source.stop();
  });

  it('refuses a low counter (no reset window) until the operator re-pairs the device, with alerts', async () => {
    const alerts: BleAlert[] = [];
    const metrics = new Registry();
    const seal = (counter: number, plaintextHex: string) => sealBthome({ mac: VECTORS.mac, bindKey: VECTORS.bindKey, plaintextHex, counter });
    source = newSource(stateDir, metrics, alerts);
    await source.start();
    await waitFor('discovery', () => source.scanStatus().adapters[0]?.discovering);
    const before = readings('secret').length;
    // One captured low-counter frame used to pass as a device reset and roll the counter back.
    for (const counter of [1, 2, 3]) await mock.advertise(secretPath, -45, bthome(seal(counter, celsius(counter))));
    await mock.advertise(secretPath, -45, bthome(seal(0x00112250, celsius(5))));
    await waitForCount('secret', before + 1);
    assert.deepEqual(temperatures('secret').slice(before), [5]);
    assert.equal((await outcomeCounts(metrics)).stale, 3);
    assert.deepEqual(
      alerts.map((a) => [a.kind, a.severity]),
      [['counter-went-back', 'warning']],
    );
    assert.match(alerts[0]?.message ?? '', /re-pair it/);

    // The device really was reset: the operator re-pairs it with its key, proven on a live frame.
    source.pairing.startSession(60_000);
    await mock.advertise(secretPath, -45, bthome(seal(1, celsius(6))));
    await waitFor('the reset device in the pairing list', () => source.pairing.nearby().find((d) => d.mac === VECTORS.mac));
    source.pairing.add({ mac: VECTORS.mac, id: 'secret', bindKey: VECTORS.bindKey });
    source.pairing.stopSession();
    await mock.advertise(secretPath, -45, bthome(seal(2, celsius(7))));
    await waitForCount('secret', before + 2);
    assert.deepEqual(temperatures('secret').slice(before), [5, 7]);
    assert.deepEqual(alerts.at(-1)?.kind, 'counter-reset');
    await source.stop();
    const saved = JSON.parse(readFileSync(join(stateDir, 'counters.json'), 'utf8')) as { version: number; devices: Record<string, { counter?: number }> };
    assert.equal(saved.version, 2);
    assert.equal(saved.devices[VECTORS.mac]?.counter, 2);
  });

  it('treats an unreadable counters file as "counter unknown": refuses, alerts, and keeps refusing until re-paired', async () => {
    const countersFile = join(stateDir, 'counters.json');
    const seal = (counter: number, plaintextHex: string) => sealBthome({ mac: VECTORS.mac, bindKey: VECTORS.bindKey, plaintextHex, counter });
    writeFileSync(countersFile, '{"version":2,"devices":{"A4:'); // a torn write
    const before = readings('secret').length;
    for (const round of [1, 2]) {
      const alerts: BleAlert[] = [];
      const metrics = new Registry();
      source = newSource(stateDir, metrics, alerts);
      await source.start();
      await waitFor('discovery', () => source.scanStatus().adapters[0]?.discovering);
      await mock.advertise(secretPath, -45, bthome(seal(0x00300000 + round, celsius(round))));
      // The frame cached in BlueZ from the test before is refused as well, so count at least one.
      await waitFor('the frame to be refused', async () => ((await outcomeCounts(metrics))['counter-unknown'] ?? 0) >= 1);
      assert.equal(readings('secret').length, before);
      if (round === 1) {
        assert.deepEqual(alerts.map((a) => [a.kind, a.severity]), [['counters-unreadable', 'critical']]);
        assert.match(alerts[0]?.message ?? '', /refused until each is re-paired/);
      }
      await source.stop();
      // The unknown state is itself saved: a restart does not turn it into "no counters".
      const saved = JSON.parse(readFileSync(countersFile, 'utf8')) as { devices: Record<string, unknown> };
      assert.deepEqual(Object.keys(saved.devices[VECTORS.mac] as object).sort(), ['pairedAt', 'unknown']);
    }
    assert.equal(readings('secret').length, before);

    source = newSource(stateDir);
    await source.start();
    await waitFor('discovery', () => source.scanStatus().adapters[0]?.discovering);
    source.pairing.startSession(60_000);
    await mock.advertise(secretPath, -45, bthome(seal(0x00300010, celsius(8))));
    await waitFor('the device in the pairing list', () => source.pairing.nearby().find((d) => d.mac === VECTORS.mac));
    source.pairing.add({ mac: VECTORS.mac, id: 'secret', bindKey: VECTORS.bindKey });
    source.pairing.stopSession();
    await mock.advertise(secretPath, -45, bthome(seal(0x00300011, celsius(9))));
    await waitForCount('secret', before + 1);
    assert.deepEqual(temperatures('secret').slice(before), [9]);
    await source.stop();
  });
});
