import type { Logger } from '../../log/logger.js';
import type { Clock } from '../../shared/clock.js';
import type { BleConfig } from '../../shared/config/ble.js';
import { AllowlistStore } from './allowlist.js';
import type { DbusConnector } from './bus.js';
import { BlePairing } from './pairing.js';
import { scannerFor } from './scanner.js';

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
  const scanner = scannerFor(options.config, {
    log: options.log,
    clock: options.clock,
    onAdvertisement: (advertisement) => pairing.observe(advertisement),
    ...(options.connect ? { connect: options.connect } : {}),
  });
  pairing.startSession();
  await scanner.start();
  try {
    return await work(pairing);
  } finally {
    await scanner.stop();
  }
}
