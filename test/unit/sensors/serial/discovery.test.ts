import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { silentLogger } from '../../../../main/log/logger.js';
import { matchingPorts, SystemPortDiscovery } from '../../../../main/sensors/serial/discovery.js';

/** A sysfs and /dev tree as the kernel lays them out for an FTDI (ttyUSB) and a CDC-ACM adapter. */
function fakeSystem(root: string): { sysRoot: string; devRoot: string } {
  const sysRoot = join(root, 'sys');
  const devRoot = join(root, 'dev');
  const usb = join(sysRoot, 'devices/pci0000:00/usb1');
  const devices: Array<[string, string, Record<string, string>]> = [
    ['ttyUSB0', '1-1/1-1:1.0/ttyUSB0', { idVendor: '0403', idProduct: '6001', serial: 'A50285BI' }],
    ['ttyACM0', '1-2/1-2:1.0', { idVendor: '2341', idProduct: '0043', serial: '7563331303' }],
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
  mkdirSync(join(sysRoot, 'class/tty/tty0'), { recursive: true });
  mkdirSync(join(devRoot, 'serial/by-id'), { recursive: true });
  symlinkSync(join(devRoot, 'ttyUSB0'), join(devRoot, 'serial/by-id/usb-FTDI_FT232R_A50285BI-if00-port0'));
  return { sysRoot, devRoot };
}

describe('SystemPortDiscovery', () => {
  let root: string;
  let savedPath: string | undefined;
  before(() => {
    root = mkdtempSync(join(tmpdir(), 'fieldgate-discovery-'));
    savedPath = process.env.PATH;
  });
  after(() => {
    process.env.PATH = savedPath;
    rmSync(root, { recursive: true, force: true });
  });

  it('does not crash where udevadm is missing: SerialPort.list() fails and sysfs is read instead', async () => {
    const system = fakeSystem(join(root, 'missing'));
    const emptyBin = join(root, 'empty-bin');
    mkdirSync(emptyBin);
    process.env.PATH = emptyBin;
    try {
      const ports = await new SystemPortDiscovery({ log: silentLogger, ...system }).list();
      assert.deepEqual(ports, [
        { path: join(system.devRoot, 'ttyACM0'), vendorId: '2341', productId: '0043', serialNumber: '7563331303' },
        {
          path: join(system.devRoot, 'ttyUSB0'),
          vendorId: '0403',
          productId: '6001',
          serialNumber: 'A50285BI',
          byId: join(system.devRoot, 'serial/by-id/usb-FTDI_FT232R_A50285BI-if00-port0'),
        },
      ]);
    } finally {
      process.env.PATH = savedPath;
    }
  });

  it('falls back to sysfs when udevadm exits with an error', async () => {
    const system = fakeSystem(join(root, 'failing'));
    const bin = join(root, 'failing-bin');
    mkdirSync(bin);
    writeFileSync(join(bin, 'udevadm'), '#!/bin/sh\necho "Failed to enumerate: No such file or directory" >&2\nexit 1\n', { mode: 0o755 });
    process.env.PATH = `${bin}:${savedPath ?? ''}`;
    try {
      const ports = await new SystemPortDiscovery({ log: silentLogger, ...system }).list();
      assert.deepEqual(matchingPorts(ports, { vendorId: '2341' }).map((p) => p.path), [join(system.devRoot, 'ttyACM0')]);
    } finally {
      process.env.PATH = savedPath;
    }
  });

  it('uses SerialPort.list() where it works and attaches by-id links', async () => {
    const devRoot = join(root, 'udev-dev');
    mkdirSync(join(devRoot, 'serial/by-id'), { recursive: true });
    writeFileSync(join(devRoot, 'ttyUSB3'), '');
    symlinkSync(join(devRoot, 'ttyUSB3'), join(devRoot, 'serial/by-id/usb-Prolific-port0'));
    const discovery = new SystemPortDiscovery({
      log: silentLogger,
      devRoot,
      sysRoot: join(root, 'no-sys'),
      udevList: async () => [{ path: join(devRoot, 'ttyUSB3'), vendorId: '067B', productId: '2303' }],
    });
    assert.deepEqual(await discovery.list(), [
      { path: join(devRoot, 'ttyUSB3'), vendorId: '067b', productId: '2303', byId: join(devRoot, 'serial/by-id/usb-Prolific-port0') },
    ]);
  });

  it('matches on every given field only', () => {
    const ports = [
      { path: '/dev/ttyUSB0', vendorId: '0403', productId: '6001', serialNumber: 'A' },
      { path: '/dev/ttyUSB1', vendorId: '0403', productId: '6001', serialNumber: 'B' },
      { path: '/dev/ttyS0' },
    ];
    assert.equal(matchingPorts(ports, { vendorId: '0403', productId: '6001' }).length, 2);
    assert.deepEqual(matchingPorts(ports, { vendorId: '0403', serialNumber: 'B' }).map((p) => p.path), ['/dev/ttyUSB1']);
    assert.deepEqual(matchingPorts(ports, { serialNumber: 'C' }), []);
  });
});
