// One advertisement per vendor format, end to end: devices allowlisted with `fieldgate ble
// allowlist add --advert` (as the README documents), `fieldgate run` scanning dbusmock's BlueZ on
// a private bus, and the readings seen by a cloud client at a real Mosquitto with mutual TLS.
import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { connectAsync, type MqttClient } from 'mqtt';
import { AllowlistStore } from '../../../main/sensors/ble/allowlist.js';
import { hexToBytes } from '../../../main/sensors/ble/decoders/bytes.js';
import { decodePayloads } from '../../../main/sensors/ble/decoders/index.js';
import type { Values } from '../../../main/shared/reading.js';
import { CliProcess, runCli } from '../../helpers/cli.js';
import { BluezMock, PrivateBus } from '../../helpers/dbus.js';
import { startMosquitto, type Mosquitto } from '../../helpers/mosquitto.js';
import { createPki, type Pki } from '../../helpers/pki.js';
import { MIBEACON_VECTOR } from '../../fixtures/ble/mibeacon-seal.js';
import { GATEWAY_ID, waitFor, workspace, type Workspace } from '../identity/fixture.js';

const uuid = (short: string) => `0000${short}-0000-1000-8000-00805f9b34fb`;

interface Device {
  id: string;
  mac: string;
  /** The advertised name (Inkbird is recognised by it). */
  alias: string;
  serviceData?: Record<string, string>;
  manufacturerData?: Record<number, string>;
  keyHex?: string;
  /** Added with the CLI (each call starts a process, so only the devices whose options matter). */
  viaCli?: boolean;
  /** Values the reading must carry (a subset of what it carries). */
  expect: Values;
}

// Vectors from the decoder unit tests; sources are named there.
const DEVICES: Device[] = [
  {
    id: 'mi-encrypted',
    mac: MIBEACON_VECTOR.mac,
    alias: 'LYWSD03MMC',
    serviceData: { [uuid('fe95')]: MIBEACON_VECTOR.frame },
    keyHex: MIBEACON_VECTOR.bindKey,
    viaCli: true,
    expect: { humidity: { value: 46.7, unit: '%' } },
  },
  {
    id: 'mi-plain',
    mac: 'A4:C1:38:B4:94:4C',
    alias: 'LYWSD03MMC',
    serviceData: { [uuid('fe95')]: '50305b05034c94b438c1a40d10041001ea01' },
    expect: { temperature: { value: 27.2, unit: '°C' }, humidity: { value: 49, unit: '%' } },
  },
  {
    id: 'pvvx',
    mac: 'A4:C1:38:CF:01:56',
    alias: 'ATC_CF0156',
    serviceData: { [uuid('181a')]: '5601cf38c1a44008bd13470c64cc0f' },
    expect: { temperature: { value: 21.12, unit: '°C' }, battery_voltage: { value: 3143, unit: 'mV' } },
  },
  {
    id: 'atc',
    mac: 'A4:C1:38:D5:D4:98',
    alias: 'ATC_D5D498',
    serviceData: { [uuid('181a')]: 'a4c138d5d49801453e510b7b62' },
    expect: { temperature: { value: 32.5, unit: '°C' }, humidity: { value: 62, unit: '%' } },
  },
  {
    id: 'govee',
    mac: 'A4:C1:38:DD:DB:F8',
    alias: 'GVH5075_DBF8',
    manufacturerData: { 0xec88: '00034db26400' },
    expect: { temperature: { value: 21.6, unit: '°C' }, humidity: { value: 49.8, unit: '%' }, battery: { value: 100, unit: '%' } },
  },
  {
    id: 'inkbird',
    mac: '49:22:03:25:01:46',
    alias: 'sps',
    manufacturerData: { 2363: 'd01300ce906406' },
    viaCli: true,
    expect: { temperature: { value: 23.63, unit: '°C' }, humidity: { value: 50.72, unit: '%' } },
  },
  {
    id: 'switchbot-outdoor',
    mac: 'D0:3E:7D:00:00:01',
    alias: 'WoIOSensor',
    serviceData: { [uuid('fd3d')]: '770064' },
    manufacturerData: { 0x0969: 'aabbccddeeff8b0305993200' },
    viaCli: true,
    expect: { temperature: { value: 25.5, unit: '°C' }, humidity: { value: 50, unit: '%' }, battery: { value: 100, unit: '%' } },
  },
  {
    id: 'qingping',
    mac: '58:2D:34:56:4D:34',
    alias: 'Qingping Alarm Clock',
    serviceData: { [uuid('fdcd')]: '080c344d56342d5801042001b201020164' },
    expect: { temperature: { value: 28.8, unit: '°C' }, humidity: { value: 43.4, unit: '%' } },
  },
  {
    id: 'ibeacon',
    mac: 'DD:34:02:05:5C:4D',
    alias: 'BlueCharm_135727',
    manufacturerData: { 0x004c: '0215426c7565436861726d426561636f6e730efe1355c5' },
    expect: { presence: { value: 1, unit: 'bool' }, rssi: { value: -71, unit: 'dBm' } },
  },
  {
    id: 'eddystone',
    mac: 'DD:34:02:05:5C:4E',
    alias: 'BlueCharm_169685',
    serviceData: { [uuid('feaa')]: '00ee626c7565636861726d310000000000010000' },
    expect: { presence: { value: 1, unit: 'bool' }, tx_power: { value: -18, unit: 'dBm' }, rssi: { value: -71, unit: 'dBm' } },
  },
  {
    id: 'bthome-mac',
    mac: 'A4:C1:38:8D:18:B2',
    alias: 'TEST DEVICE',
    serviceData: { [uuid('fcd2')]: '42b2188d38c1a404138a01' },
    expect: { pressure: { value: 1008.83, unit: 'hPa' } },
  },
];

function advertArguments(device: Device): string[] {
  return [
    ...Object.entries(device.serviceData ?? {}).map(([key, hex]) => `${key}=${hex}`),
    ...Object.entries(device.manufacturerData ?? {}).map(([company, hex]) => `${company}=${hex}`),
  ];
}

describe('vendor BLE formats through fieldgate run, BlueZ (dbusmock) and Mosquitto (mTLS)', { concurrency: false }, () => {
  let pki: Pki;
  let broker: Mosquitto;
  let cloud: MqttClient;
  let ws: Workspace;
  let bus: PrivateBus;
  let mock: BluezMock;
  let running: CliProcess | undefined;
  const received = new Map<string, Values[]>();

  before(async () => {
    pki = await createPki();
    broker = await startMosquitto({ pki });
    const reader = await pki.issueClientCert({ cn: broker.readerCn });
    cloud = await connectAsync(broker.url, { ca: pki.ca.certPem, cert: reader.certPem, key: reader.keyPem, protocolVersion: 5, reconnectPeriod: 0 });
    await cloud.subscribeAsync(`${broker.prefix}/${GATEWAY_ID}/readings/#`, { qos: 1 });
    cloud.on('message', (_topic, payload) => {
      const body = JSON.parse(payload.toString()) as { readings: Array<{ sensor: string; values: Values }> };
      for (const reading of body.readings) received.set(reading.sensor, [...(received.get(reading.sensor) ?? []), reading.values]);
    });
    ws = workspace(({ identityDir }) => ({
      caFile: pki.ca.certPath,
      cloud: { url: broker.url, caFile: pki.ca.certPath, certFile: join(identityDir, 'cert.pem'), keyFile: join(identityDir, 'key.pem') },
      sensors: { ble: { noDataTimeoutSeconds: 3600 } },
    }));
    const csr = await runCli(['identity', 'csr', '--config', ws.configFile]);
    const certFile = join(ws.root, 'signed.pem');
    writeFileSync(certFile, await pki.signCsr(csr.stdout, { days: 365 }));
    const imported = await runCli(['identity', 'import', '--config', ws.configFile, certFile]);
    assert.equal(imported.code, 0, imported.stderr);
    bus = await PrivateBus.start(ws.root);
    process.env.DBUS_SYSTEM_BUS_ADDRESS = bus.address;
    mock = new BluezMock(bus);
    await mock.start();
    await mock.addAdapter('hci0');
  });

  after(async () => {
    running?.child.kill('SIGTERM');
    await running?.exit();
    await cloud?.endAsync();
    await mock?.stop();
    await bus?.stop();
    await broker?.cleanup();
    await pki?.cleanup();
    ws?.cleanup();
  });

  it('`ble decode` reads a two-part advertisement and an encrypted MiBeacon frame', async () => {
    const outdoor = await runCli(['ble', 'decode', 'fd3d=770064', '0x0969=aabbccddeeff8b0305993200']);
    assert.equal(outdoor.code, 0, outdoor.stderr);
    assert.deepEqual(JSON.parse(outdoor.stdout).values.temperature, { value: 25.5, unit: '°C' });
    const encrypted = await runCli(['ble', 'decode', '--key', MIBEACON_VECTOR.bindKey, `fe95=${MIBEACON_VECTOR.frame}`]);
    assert.equal(encrypted.code, 0, encrypted.stderr);
    assert.deepEqual(JSON.parse(encrypted.stdout), {
      format: 'mibeacon',
      encrypted: true,
      values: { humidity: { value: 46.7, unit: '%' } },
      counter: 9808,
      mac: MIBEACON_VECTOR.mac,
    });
  });

  it('allowlists the devices from captured advertisements; an encrypted MiBeacon needs its bind key', async () => {
    const encrypted = DEVICES.find((d) => d.keyHex) as Device;
    const keyless = await runCli(['ble', 'allowlist', 'add', '-c', ws.configFile, '--mac', encrypted.mac, '--advert', ...advertArguments(encrypted)]);
    assert.notEqual(keyless.code, 0);
    assert.match(keyless.stderr, /sends encrypted mibeacon: give its bind key/);
    for (const device of DEVICES.filter((d) => d.viaCli)) {
      const keyFile = join(ws.root, `${device.id}.key`);
      if (device.keyHex) writeFileSync(keyFile, `${device.keyHex}\n`, { mode: 0o600 });
      const added = await runCli([
        'ble', 'allowlist', 'add', '-c', ws.configFile, '--mac', device.mac, '--id', device.id,
        ...(device.keyHex ? ['--key-file', keyFile] : []),
        ...(device.alias === 'sps' ? ['--local-name', device.alias] : []),
        '--advert', ...advertArguments(device),
      ]);
      assert.equal(added.code, 0, `${device.id}: ${added.stderr}`);
      assert.equal(JSON.parse(added.stdout).encrypted, device.keyHex !== undefined, device.id);
      if (device.keyHex) assert.ok(!`${added.stdout}${added.stderr}`.toLowerCase().includes(device.keyHex), 'the bind key is never printed');
    }
    const store = new AllowlistStore({ dir: join(ws.dataDir, 'ble') });
    store.load();
    for (const device of DEVICES.filter((d) => !d.viaCli)) {
      const payloads = {
        serviceData: new Map(Object.entries(device.serviceData ?? {}).map(([key, hex]) => [key, hexToBytes(hex, key)])),
        manufacturerData: new Map(Object.entries(device.manufacturerData ?? {}).map(([id, hex]) => [Number(id), hexToBytes(hex, id)])),
      };
      store.upsert({ mac: device.mac, id: device.id, name: device.alias, format: decodePayloads(payloads).format, addedAt: Date.now() });
    }
  });

  it('publishes one reading per device, with the decoded values (and the RSSI for beacons)', async () => {
    running = new CliProcess(['run', '--config', ws.configFile], { DBUS_SYSTEM_BUS_ADDRESS: bus.address });
    await running.waitForLine('"BLE source running"');
    await running.waitForLine('"uplink connected"');
    for (const device of DEVICES) {
      const path = await mock.addDevice('hci0', device.mac, device.alias);
      await mock.advertise(path, -71, {
        ...(device.serviceData ? { serviceData: device.serviceData } : {}),
        ...(device.manufacturerData ? { manufacturerData: device.manufacturerData } : {}),
      });
    }
    await waitFor(() => DEVICES.every((d) => received.has(d.id)), 'a reading of every device');
    for (const device of DEVICES) {
      const [values] = received.get(device.id) ?? [];
      for (const [quantity, measurement] of Object.entries(device.expect)) assert.deepEqual(values?.[quantity], measurement, `${device.id}: ${quantity}`);
    }
    assert.equal(received.size, DEVICES.length, `only allowlisted devices: ${[...received.keys()].join(', ')}`);
  });
});
