// BLE pairing as the control API drives it, over BlueZ emulated by dbusmock on a private bus: a
// live nearby list (strongest first, decoded previews, the encrypted flag), a wrong bind key
// refused as wrong, the right one accepted, and the paired device read by the source.
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { SqliteBuffer } from '../../../main/buffer/sqlite-buffer.js';
import { silentLogger } from '../../../main/log/logger.js';
import { BleSource } from '../../../main/sensors/ble/ble-source.js';
import { BTHOME_UUID } from '../../../main/sensors/ble/decoders/index.js';
import { BlePairingService } from '../../../main/sensors/ble/pairing-service.js';
import { ApiError, apiEventSchema, apiMethods, type ApiEvent } from '../../../main/shared/api.js';
import { systemClock } from '../../../main/shared/clock.js';
import { bleSchema } from '../../../main/shared/config/ble.js';
import type { BluezMock } from '../../helpers/dbus.js';
import { startBleRig, waitFor, type BleRig } from './fixture.js';
import { VECTORS } from '../../fixtures/ble/bthome-seal.js';

const PLAIN_MAC = 'A4:C1:38:00:00:01';
const bthome = (hex: string) => ({ serviceData: { [BTHOME_UUID]: hex } });

type Nearby = Extract<ApiEvent, { type: 'pairing-nearby' }>;

describe('BLE pairing service over dbusmock', () => {
  const root = mkdtempSync(join(tmpdir(), 'fieldgate-ble-pairing-it-'));
  const events: ApiEvent[] = [];
  let rig: BleRig;
  let mock: BluezMock;
  let buffer: SqliteBuffer;
  let source: BleSource;
  let service: BlePairingService;

  before(async () => {
    rig = await startBleRig(root);
    ({ mock, buffer } = rig);
    source = new BleSource({
      config: bleSchema.parse({ noDataTimeoutSeconds: 3600 }),
      stateDir: join(root, 'ble'),
      sink: buffer,
      log: silentLogger,
      clock: systemClock,
    });
    await source.start();
    const adapter = await mock.addAdapter('hci0');
    await waitFor('discovery on hci0', () => source.scanStatus().adapters[0]?.discovering && mock.discovering(adapter));
    service = new BlePairingService({
      pairing: () => source.pairing,
      events: { publish: (event) => events.push(apiEventSchema.parse(event)) },
      configVersion: () => 'config-v7',
      log: silentLogger,
      clock: systemClock,
      nearbyEveryMs: 50,
    });
  });

  after(async () => {
    await service?.stop();
    await source?.stop();
    await rig?.stop();
    rmSync(root, { recursive: true, force: true });
  });

  function latestNearby(sessionId: string): Nearby | undefined {
    return events.filter((e): e is Nearby => e.type === 'pairing-nearby' && e.sessionId === sessionId).at(-1);
  }

  it('streams nearby devices, refuses a wrong bind key as wrong and accepts the right one', async () => {
    const { sessionId, deadline } = service.startPairing({ durationSeconds: 120 });
    assert.ok(Date.parse(deadline) > Date.now());
    const plain = await mock.addDevice('hci0', PLAIN_MAC, 'plain-sensor');
    const secret = await mock.addDevice('hci0', VECTORS.mac, 'freezer-sensor');
    await mock.advertise(plain, -70, bthome('40000A02CA0903BF13'));
    await mock.advertise(secret, -45, bthome(VECTORS.encrypted1.slice(4)));

    const listed = await waitFor('both devices in a pairing-nearby event', () => {
      const devices = latestNearby(sessionId)?.devices;
      return devices?.length === 2 && devices;
    });
    assert.deepEqual(
      listed.map((d) => ({ mac: d.mac, rssi: d.rssi, format: d.format, encrypted: d.encrypted, preview: d.preview, pairedAs: d.pairedAs })),
      [
        { mac: VECTORS.mac, rssi: -45, format: 'bthome-v2', encrypted: true, preview: [], pairedAs: null },
        {
          mac: PLAIN_MAC,
          rssi: -70,
          format: 'bthome-v2',
          encrypted: false,
          preview: [{ quantity: 'temperature', value: 25.06, unit: '°C' }, { quantity: 'humidity', value: 50.55, unit: '%' }],
          pairedAs: null,
        },
      ],
      'strongest signal first',
    );
    assert.deepEqual(apiMethods.nearbyDevices.result.parse(service.nearby({ sessionId })).devices, listed);

    await assert.rejects(service.addSensor({ mac: VECTORS.mac, id: 'freezer', bindKey: VECTORS.wrongKey }), (error: unknown) => {
      assert.ok(error instanceof ApiError, String(error));
      assert.equal(error.kind, 'bad-request');
      assert.equal(error.details.field, 'bindKey');
      assert.match(error.message, /wrong bind key/);
      assert.match(error.details.hint ?? '', /the bind key is wrong/);
      return true;
    });
    await assert.rejects(service.addSensor({ mac: VECTORS.mac, id: 'freezer' }), (error: unknown) => error instanceof ApiError && error.details.field === 'bindKey' && /give its bind key/.test(error.message));
    assert.deepEqual(source.pairing.list(), [], 'nothing was saved');

    assert.deepEqual(await service.addSensor({ mac: VECTORS.mac, id: 'freezer', bindKey: VECTORS.bindKey }), { version: 'config-v7' });
    assert.deepEqual(source.pairing.list().map((e) => [e.mac, e.id, e.encrypted]), [[VECTORS.mac, 'freezer', true]]);
    const paired = await waitFor('the paired device decoded in the nearby list', () => latestNearby(sessionId)?.devices.find((d) => d.pairedAs === 'freezer'));
    assert.deepEqual(paired.preview, [{ quantity: 'temperature', value: 25.06, unit: '°C' }, { quantity: 'humidity', value: 50.55, unit: '%' }]);
    await assert.rejects(service.addSensor({ mac: PLAIN_MAC, id: 'freezer' }), (error: unknown) => error instanceof ApiError && error.kind === 'conflict' && error.details.field === 'id');

    assert.deepEqual(service.stopPairing({ sessionId }), { ok: true });
    assert.deepEqual(events.at(-1), { type: 'pairing-ended', sessionId, reason: 'stopped' });
    assert.throws(() => service.nearby({ sessionId }), (error: unknown) => error instanceof ApiError && error.kind === 'not-found');
    await assert.rejects(service.addSensor({ mac: PLAIN_MAC, id: 'plain' }), (error: unknown) => error instanceof ApiError && error.kind === 'conflict' && /start pairing/.test(error.details.hint ?? ''));
  });

  it('removes a paired sensor by its id', async () => {
    assert.deepEqual(await service.removeSensor({ id: 'freezer' }), { version: 'config-v7' });
    assert.deepEqual(source.pairing.list(), []);
    await assert.rejects(service.removeSensor({ id: 'freezer' }), (error: unknown) => error instanceof ApiError && error.kind === 'not-found' && error.details.field === 'id');
  });

  it('ends a session at its deadline', async () => {
    const short = new BlePairingService({
      pairing: () => source.pairing,
      events: { publish: (event) => events.push(event) },
      configVersion: () => 'config-v7',
      log: silentLogger,
      clock: { now: () => Date.now() + 119_500 },
    });
    const { sessionId } = short.startPairing({ durationSeconds: 120 });
    await waitFor('pairing-ended at the deadline', () => events.find((e) => e.type === 'pairing-ended' && e.sessionId === sessionId));
    assert.deepEqual(events.find((e) => e.type === 'pairing-ended' && e.sessionId === sessionId), { type: 'pairing-ended', sessionId, reason: 'deadline' });
  });

  it('answers unavailable while BLE is not running', () => {
    const idle = new BlePairingService({ pairing: () => undefined, events: { publish: (event) => events.push(event) }, configVersion: () => 'v', log: silentLogger, clock: systemClock });
    assert.throws(() => idle.startPairing({ durationSeconds: 60 }), (error: unknown) => error instanceof ApiError && error.kind === 'unavailable' && /sensors\.ble/.test(error.details.hint ?? ''));
  });
});
