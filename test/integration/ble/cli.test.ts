import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { BTHOME_UUID } from '../../../main/sensors/ble/decoders/index.js';
import { runCli, type CliResult } from '../../helpers/cli.js';
import { BluezMock, PrivateBus } from '../../helpers/dbus.js';
import { RUUVI_DF5_VALUES, RUUVI_DF6_VALUES, VECTORS } from '../../fixtures/ble/bthome-seal.js';

const root = mkdtempSync(join(tmpdir(), 'fieldgate-ble-cli-'));
after(() => rmSync(root, { recursive: true, force: true }));

function json(result: CliResult): Record<string, unknown> {
  assert.equal(result.code, 0, result.stderr);
  return JSON.parse(result.stdout) as Record<string, unknown>;
}

function failsWith(result: CliResult, pattern: RegExp): void {
  assert.notEqual(result.code, 0);
  assert.equal(result.stdout, '');
  const lines = result.stderr.trim().split('\n');
  assert.equal(lines.length, 1, `one line on stderr, got: ${result.stderr}`);
  assert.match(lines[0] ?? '', pattern);
}

const temperatureAndHumidity = { temperature: { value: 25.06, unit: '°C' }, humidity: { value: 50.55, unit: '%' } };

describe('fieldgate ble decode', () => {
  const table: Array<{ args: string[]; expected: Record<string, unknown> }> = [
    { args: ['fcd2=4002CA0903BF13'], expected: { format: 'bthome-v2', encrypted: false, values: temperatureAndHumidity } },
    {
      args: ['fcd2=400009015D025D0903B718'],
      expected: {
        format: 'bthome-v2',
        encrypted: false,
        packetId: 9,
        values: { battery: { value: 93, unit: '%' }, temperature: { value: 23.97, unit: '°C' }, humidity: { value: 63.27, unit: '%' } },
      },
    },
    {
      args: ['FCD2=40005201643A01'],
      expected: { format: 'bthome-v2', encrypted: false, packetId: 82, values: { battery: { value: 100, unit: '%' }, button: { value: 1, unit: 'event' } } },
    },
    { args: [`${BTHOME_UUID}=4004138A01`], expected: { format: 'bthome-v2', encrypted: false, values: { pressure: { value: 1008.83, unit: 'hPa' } } } },
    {
      args: ['--mac', VECTORS.mac, '--key', VECTORS.bindKey, `fcd2=${VECTORS.encrypted1}`],
      expected: { format: 'bthome-v2', encrypted: true, counter: 0x00112233, values: temperatureAndHumidity },
    },
    {
      args: ['--mac', VECTORS.mac.toLowerCase(), '--key', VECTORS.bindKey.toUpperCase(), `fcd2=${VECTORS.encrypted2.slice(4)}`],
      expected: { format: 'bthome-v2', encrypted: true, counter: 0x33221100, values: temperatureAndHumidity },
    },
    {
      args: [`0x0499=${VECTORS.ruuviDf6}`],
      expected: {
        format: 'ruuvi-df6',
        encrypted: false,
        sequence: 205,
        mac: '4C:88:4F',
        values: RUUVI_DF6_VALUES,
      },
    },
  ];
  for (const row of table) {
    it(`decodes ${row.args.at(-1)}`, async () => {
      assert.deepEqual(json(await runCli(['ble', 'decode', ...row.args])), row.expected);
    });
  }

  it('decodes Ruuvi DF5 with a decimal company id', async () => {
    const out = json(await runCli(['ble', 'decode', `1177=${VECTORS.ruuviDf5}`]));
    assert.equal(out.format, 'ruuvi-df5');
    assert.equal(out.sequence, 205);
    assert.equal(out.mac, 'CB:B8:33:4C:88:4F');
    assert.deepEqual(out.values, RUUVI_DF5_VALUES);
  });

  it('exits non-zero with one clear reason', async () => {
    failsWith(await runCli(['ble', 'decode', '--mac', VECTORS.mac, '--key', VECTORS.wrongKey, `fcd2=${VECTORS.encrypted1}`]), /mic-failure/);
    failsWith(await runCli(['ble', 'decode', `fcd2=${VECTORS.encrypted1}`]), /key-required.*--key/);
    failsWith(await runCli(['ble', 'decode', '0x0499=0512FC5394']), /truncated/);
    failsWith(await runCli(['ble', 'decode', 'fcd2=4002CA']), /truncated/);
    failsWith(await runCli(['ble', 'decode', '0x0499=0317014535']), /unknown-format/);
    failsWith(await runCli(['ble', 'decode', '0x004c=1005031c']), /unknown-format/);
    failsWith(await runCli(['ble', 'decode', '0x004c=0215']), /truncated/);
    failsWith(await runCli(['ble', 'decode', 'fcd2=zz']), /hex/);
    failsWith(await runCli(['ble', 'decode', 'nonsense']), /SERVICE_UUID=HEX/);
  });
});

describe('fieldgate ble allowlist', () => {
  const config = join(root, 'fieldgate.yaml');
  const keyFile = join(root, 'bind.key');
  const wrongKeyFile = join(root, 'wrong.key');
  let bus: PrivateBus;
  let mock: BluezMock;

  before(async () => {
    writeFileSync(config, 'gateway:\n  id: gw-ble\n  dataDir: ./data\nsensors:\n  ble:\n    adapter: hci0\n');
    writeFileSync(keyFile, `${VECTORS.bindKey}\n`, { mode: 0o600 });
    writeFileSync(wrongKeyFile, VECTORS.wrongKey, { mode: 0o600 });
    bus = await PrivateBus.start(root);
    process.env.DBUS_SYSTEM_BUS_ADDRESS = bus.address;
    mock = new BluezMock(bus);
    await mock.start();
  });

  after(async () => {
    await mock?.stop();
    await bus?.stop();
  });

  it('adds against a captured advertisement, keeps the key sealed, lists and removes', async () => {
    const advert = `fcd2=${VECTORS.encrypted1}`;
    const add = ['ble', 'allowlist', 'add', '-c', config, '--mac', VECTORS.mac, '--id', 'freezer'];
    failsWith(await runCli([...add, '--key-file', wrongKeyFile, '--advert', advert]), /MIC check failed/);
    failsWith(await runCli([...add, '--advert', advert]), /give its bind key/);
    assert.deepEqual(json(await runCli(['ble', 'allowlist', 'list', '-c', config])), []);
    const saved = json(await runCli([...add, '--key-file', keyFile, '--advert', advert]));
    assert.deepEqual({ ...saved, addedAt: null }, { mac: VECTORS.mac, id: 'freezer', name: VECTORS.mac, format: 'bthome-v2', encrypted: true, addedAt: null });
    const file = readFileSync(join(root, 'data', 'ble', 'allowlist.json'), 'utf8');
    assert.ok(!file.toLowerCase().includes(VECTORS.bindKey));
    const listed = json(await runCli(['ble', 'allowlist', 'list', '-c', config])) as unknown as Array<Record<string, unknown>>;
    assert.deepEqual(listed.map((d) => [d.id, d.encrypted]), [['freezer', true]]);
    assert.equal((await runCli(['ble', 'allowlist', 'remove', '-c', config, VECTORS.mac.toLowerCase()])).code, 0);
    failsWith(await runCli(['ble', 'allowlist', 'remove', '-c', config, VECTORS.mac]), /not on the allowlist/);
  });

  it('scans through BlueZ: lists nearby devices and adds one after checking its key', async () => {
    await mock.addAdapter('hci0');
    const secret = await mock.addDevice('hci0', VECTORS.mac, 'secret');
    const ruuvi = await mock.addDevice('hci0', 'CB:B8:33:4C:88:4F', 'Ruuvi 884F');
    let advertising = true;
    const advertiser = (async () => {
      while (advertising) {
        await mock.advertise(secret, -70, { serviceData: { [BTHOME_UUID]: VECTORS.encrypted1.slice(4) } });
        await mock.advertise(ruuvi, -40, { manufacturerData: { 0x0499: VECTORS.ruuviDf5 } });
        await sleep(200);
      }
    })();
    try {
      const scan = await runCli(['ble', 'scan', '-c', config, '--seconds', '3'], { DBUS_SYSTEM_BUS_ADDRESS: bus.address });
      const nearby = json(scan) as unknown as Array<Record<string, unknown>>;
      assert.deepEqual(nearby.map((d) => [d.mac, d.rssi, d.format, d.encrypted]), [
        ['CB:B8:33:4C:88:4F', -40, 'ruuvi-df5', false],
        [VECTORS.mac, -70, 'bthome-v2', true],
      ]);
      assert.equal((nearby[0]?.preview as Record<string, { value: number }>).temperature?.value, 24.3);
      const wrong = await runCli(['ble', 'allowlist', 'add', '-c', config, '--mac', VECTORS.mac, '--key-file', wrongKeyFile, '--wait', '20'], {
        DBUS_SYSTEM_BUS_ADDRESS: bus.address,
      });
      failsWith(wrong, /MIC check failed/);
      const added = json(
        await runCli(['ble', 'allowlist', 'add', '-c', config, '--mac', VECTORS.mac, '--key-file', keyFile, '--wait', '20'], {
          DBUS_SYSTEM_BUS_ADDRESS: bus.address,
        }),
      );
      assert.deepEqual([added.id, added.name, added.encrypted], ['ble-5448e68f80a5', 'secret', true]);
    } finally {
      advertising = false;
      await advertiser;
    }
  });
});
