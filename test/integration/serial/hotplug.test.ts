import assert from 'node:assert/strict';
import { mkdirSync, symlinkSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import type { SerialPort } from 'serialport';
import { SocatPair } from '../../helpers/socat.js';
import { closePort, openDeviceEnd, send, SerialRig, waitFor } from './fixture.js';

describe('serial hot-plug over a real pty pair', () => {
  const pair = new SocatPair();
  let rig: SerialRig;
  let device: SerialPort | undefined;
  let byId: string;

  before(async () => {
    await pair.start();
    // A stable name like udev's /dev/serial/by-id link; it keeps pointing at the socat link across restarts.
    mkdirSync(join(pair.dir, 'by-id'));
    byId = join(pair.dir, 'by-id', 'usb-FTDI_FT232R_USB_UART_A50285BI-if00-port0');
    symlinkSync(pair.a, byId);
    rig = new SerialRig([{ id: 'plug', path: byId, format: 'kv', sensorId: 'bench' }]);
    await rig.start();
    device = await openDeviceEnd(pair.b);
  });

  after(async () => {
    await closePort(device);
    await rig?.dispose();
    await pair.dispose();
  });

  /** Sends `temp=<value>` until the reader has stored it (the reader may still be reopening, so it may land more than once). */
  async function sendUntilRead(value: number): Promise<void> {
    await waitFor(`a reading with temp=${value}`, async () => {
      if (device?.isOpen) await send(device, `temp=${value}\n`).catch(() => undefined);
      return rig.readings('bench').some((r) => r.values.temp?.value === value);
    });
  }

  it('marks the sensor offline when the port disappears and resumes reading after replug, twice', async () => {
    await sendUntilRead(1);
    assert.equal(rig.sensor('bench')?.online, true);
    assert.equal(await rig.metric('fieldgate_serial_port_open', { port: 'plug' }), 1);

    for (const round of [1, 2]) {
      await closePort(device);
      await pair.unplug();
      await waitFor('sensor offline', () => rig.sensor('bench')?.online === false);
      assert.equal(await rig.metric('fieldgate_serial_port_open', { port: 'plug' }), 0);
      assert.equal(await rig.metric('fieldgate_serial_port_reopens_total', { port: 'plug' }), round);
      // Stay unplugged long enough for several failed reopen attempts.
      await new Promise((resolve) => setTimeout(resolve, 1500));
      assert.equal(rig.sensor('bench')?.online, false);

      await pair.replug();
      device = await openDeviceEnd(pair.b);
      await waitFor('port reopened', async () => (await rig.metric('fieldgate_serial_port_open', { port: 'plug' })) === 1);
      await sendUntilRead(round + 1);
      assert.equal(rig.sensor('bench')?.online, true);
    }

    const readings = rig.readings('bench');
    assert.deepEqual([...new Set(readings.map((r) => r.values.temp?.value))], [1, 2, 3]);
    assert.deepEqual(
      readings.map((r) => r.seq),
      readings.map((_, i) => i + 1),
      'seq continues across unplugs without gaps',
    );
  });
});
