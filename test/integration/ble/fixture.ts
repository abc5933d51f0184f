// Helpers shared by the BLE integration tests: a private bus with dbusmock's BlueZ and a real
// SQLite buffer, what a source has buffered, and waiting for it.
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { Registry } from 'prom-client';
import { SqliteBuffer } from '../../../main/buffer/sqlite-buffer.js';
import { silentLogger } from '../../../main/log/logger.js';
import { systemClock, type Clock } from '../../../main/shared/clock.js';
import { bufferSchema } from '../../../main/shared/config/buffer.js';
import type { Reading } from '../../../main/shared/reading.js';
import { BluezMock, PrivateBus } from '../../helpers/dbus.js';

export interface BleRig {
  bus: PrivateBus;
  mock: BluezMock;
  buffer: SqliteBuffer;
  stop(): Promise<void>;
}

/** Points DBUS_SYSTEM_BUS_ADDRESS at a private bus in `root` running dbusmock's bluez5, and opens `<root>/buffer.db`. */
export async function startBleRig(root: string, clock: Clock = systemClock): Promise<BleRig> {
  const bus = await PrivateBus.start(root);
  process.env.DBUS_SYSTEM_BUS_ADDRESS = bus.address;
  const mock = new BluezMock(bus);
  await mock.start();
  const buffer = new SqliteBuffer({ file: join(root, 'buffer.db'), options: bufferSchema.parse({}), log: silentLogger, clock, metrics: new Registry() });
  await buffer.start(new AbortController().signal);
  return {
    bus,
    mock,
    buffer,
    async stop() {
      await buffer.stop();
      await mock.stop();
      await bus.stop();
    },
  };
}

/** Everything buffered for a sensor so far (leased and handed back, so nothing is consumed). */
export function bufferedReadings(buffer: SqliteBuffer, sensorId: string): Reading[] {
  const leased = buffer.lease({ max: 100_000 });
  buffer.nack(leased.map((r) => r.id));
  return leased.filter((r) => r.sensorId === sensorId).sort((a, b) => a.seq - b.seq);
}

export async function waitFor<T>(what: string, probe: () => T | undefined | false | Promise<T | undefined | false>): Promise<T> {
  const deadline = Date.now() + 30_000;
  for (;;) {
    const value = await probe();
    if (value !== undefined && value !== false) return value;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await sleep(50);
  }
}

export async function waitForReadings(buffer: SqliteBuffer, sensorId: string, count: number): Promise<Reading[]> {
  return waitFor(`${count} readings of ${sensorId}`, () => {
    const found = bufferedReadings(buffer, sensorId);
    return found.length >= count ? found : undefined;
  });
}
