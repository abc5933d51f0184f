import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { silentLogger } from '../../../../main/log/logger.js';
import { SystemPortDiscovery } from '../../../../main/sensors/serial/discovery.js';
import { SerialSetup } from '../../../../main/sensors/serial/preview.js';
import { apiMethods } from '../../../../main/shared/api.js';
import { systemClock } from '../../../../main/shared/clock.js';
import { serialPortSchema } from '../../../../main/shared/config/serial.js';

/** sysfs and /dev as the kernel lays them out for an FTDI adapter (with its USB strings) and an Arduino. */
function fakeSystem(root: string): { sysRoot: string; devRoot: string } {
  const sysRoot = join(root, 'sys');
  const devRoot = join(root, 'dev');
  const usb = join(sysRoot, 'devices/pci0000:00/usb1');
  const devices: Array<[string, string, Record<string, string>]> = [
    ['ttyUSB0', '1-1/1-1:1.0/ttyUSB0', { idVendor: '0403', idProduct: '6001', serial: 'A50285BI', manufacturer: 'FTDI', product: 'FT232R USB UART' }],
    ['ttyACM0', '1-2/1-2:1.0', { idVendor: '2341', idProduct: '0043' }],
  ];
  for (const [name, devicePath, attributes] of devices) {
    const deviceDir = join(usb, devicePath);
    mkdirSync(deviceDir, { recursive: true });
    const usbDevice = join(usb, devicePath.split('/')[0] as string);
    for (const [attribute, value] of Object.entries(attributes)) writeFileSync(join(usbDevice, attribute), `${value}\n`);
    mkdirSync(join(sysRoot, 'class/tty', name), { recursive: true });
    symlinkSync(deviceDir, join(sysRoot, 'class/tty', name, 'device'));
    mkdirSync(devRoot, { recursive: true });
    writeFileSync(join(devRoot, name), '');
  }
  mkdirSync(join(devRoot, 'serial/by-id'), { recursive: true });
  symlinkSync(join(devRoot, 'ttyUSB0'), join(devRoot, 'serial/by-id/usb-FTDI_FT232R_A50285BI-if00-port0'));
  return { sysRoot, devRoot };
}

describe('SerialSetup.ports', () => {
  const root = mkdtempSync(join(tmpdir(), 'fieldgate-port-listing-'));
  after(() => rmSync(root, { recursive: true, force: true }));

  it('lists by-id links, vendor and product names, and which configured port reads each device', async () => {
    const system = fakeSystem(root);
    const byId = join(system.devRoot, 'serial/by-id/usb-FTDI_FT232R_A50285BI-if00-port0');
    const configured = [
      serialPortSchema.parse({ id: 'ftdi-port', path: byId, format: 'kv', sensorId: 'shed' }),
      serialPortSchema.parse({ id: 'arduino-port', match: { vendorId: '2341' }, format: 'jsonl', sensorId: 'bench' }),
    ];
    const discovery = new SystemPortDiscovery({ log: silentLogger, ...system, udevList: () => Promise.reject(new Error('udevadm: not found')) });
    const setup = new SerialSetup({
      ports: { configured: () => configured, pause: async () => {}, resume: async () => {} },
      discovery,
      events: { publish: () => {} },
      log: silentLogger,
      clock: systemClock,
    });
    assert.deepEqual(apiMethods.serialPorts.result.parse(await setup.ports()).ports, [
      { path: join(system.devRoot, 'ttyACM0'), byId: [], vendorId: '2341', productId: '0043', usedBy: ['bench'] },
      {
        path: join(system.devRoot, 'ttyUSB0'),
        byId: [byId],
        vendorId: '0403',
        productId: '6001',
        manufacturer: 'FTDI',
        product: 'FT232R USB UART',
        serialNumber: 'A50285BI',
        usedBy: ['shed'],
      },
    ]);
  });

  it('adds the product name from sysfs to what udev lists', async () => {
    const system = fakeSystem(join(root, 'udev'));
    const path = join(system.devRoot, 'ttyUSB0');
    const discovery = new SystemPortDiscovery({
      log: silentLogger,
      ...system,
      udevList: async () => [{ path, vendorId: '0403', productId: '6001', manufacturer: 'FTDI' }],
    });
    const [port] = await discovery.list();
    assert.equal(port?.manufacturer, 'FTDI');
    assert.equal(port?.product, 'FT232R USB UART');
  });
});
