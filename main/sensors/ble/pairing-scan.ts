import type { Logger } from '../../log/logger.js';
import type { Clock } from '../../shared/clock.js';
import type { BleConfig } from '../../shared/config/ble.js';
import { AllowlistStore } from './allowlist.js';
import type { DbusConnector } from './bus.js';
import { connectSystemBus } from './dbus-next-bus.js';
import { BlePairing } from './pairing.js';
import { BleScanner } from './scanner.js';

export interface PairingScanOptions {
  config: BleConfig;
  stateDir: string;
  log: Logger;
  clock: Clock;
  /** How long the pairing session stays open. */
  seconds: number;
  connect?: DbusConnector;
}

/**
 * A stand-alone pairing session for the CLI: scans through BlueZ (alongside a running service,
 * which BlueZ allows), runs `work`, then stops discovery. Changes land in the shared allowlist
 * file, which a running service reloads.
 */
export async function withPairingScan<T>(options: PairingScanOptions, work: (pairing: BlePairing) => Promise<T>): Promise<T> {
  const store = new AllowlistStore({ dir: options.stateDir });
  store.load();
  const pairing = new BlePairing({ store, clock: options.clock, log: options.log, maxSessionMs: options.seconds * 1000 });
  const scanner = new BleScanner({
    connect: options.connect ?? connectSystemBus,
    log: options.log,
    clock: options.clock,
    noDataTimeoutMs: options.config.noDataTimeoutSeconds * 1000,
    onAdvertisement: (advertisement) => pairing.observe(advertisement),
    ...(options.config.adapter ? { adapter: options.config.adapter } : {}),
  });
  pairing.startSession();
  await scanner.start();
  try {
    return await work(pairing);
  } finally {
    await scanner.stop();
  }
}
