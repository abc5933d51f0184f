import type { DecodedAdvertisement } from './decoders/types.js';

/**
 * - `fresh`: a new measurement.
 * - `repeat`: the same measurement again (same packet id, Ruuvi sequence, or an identical encrypted frame).
 * - `stale`: an encrypted counter not above the last accepted one (a replay of an older frame).
 * - `replay`: the last accepted counter with different content.
 * - `downgrade`: a plaintext frame with values from a device that has a bind key.
 * - `no-data`: a plaintext frame without values from a device that has a bind key (MiBeacon
 *   devices send these between their encrypted frames); dropped without touching the counter.
 * - `counter-unknown`: the device's last counter was lost (unreadable counters file), so no frame
 *   can be told from a replay until an operator re-pairs it.
 *
 * A device that restarts its counter from 0 (power loss) is `stale` until it is re-paired: a
 * counter going down cannot be told apart from a replayed capture, so only an operator can accept it.
 */
export type Freshness = 'fresh' | 'repeat' | 'stale' | 'replay' | 'downgrade' | 'no-data' | 'counter-unknown';

/** What survives a restart for one device: its last accepted counter, or that it is unknown. */
export type SavedCounter = { counter: number } | { unknown: true };

/** Frames without a packet id or sequence: identical bytes within this window are the same measurement re-sent. */
export const IDENTICAL_FRAME_WINDOW_MS = 30_000;

interface DeviceHistory {
  counter?: number;
  /** The last counter was lost: refuse everything until the device is re-paired (forget). */
  counterUnknown?: boolean;
  frame?: string;
  repeatId?: number;
  acceptedAt?: number;
}

export interface FrameJudgement {
  mac: string;
  decoded: DecodedAdvertisement;
  /** Whether the allowlist holds a bind key for this device. */
  keyed: boolean;
  /** The raw payload, to tell a retransmission from a replay with the same counter. */
  frameHex: string;
  /** Milliseconds since the epoch. */
  receivedAt: number;
}

/** Per-device replay, downgrade and duplicate checks. Only `fresh` frames update the history. */
export class FreshnessGate {
  private readonly history = new Map<string, DeviceHistory>();

  judge({ mac, decoded, keyed, frameHex, receivedAt }: FrameJudgement): Freshness {
    if (keyed && !decoded.encrypted) return Object.keys(decoded.values).length > 0 ? 'downgrade' : 'no-data';
    const history = this.history.get(mac) ?? {};
    if (history.counterUnknown) return 'counter-unknown';
    if (decoded.counter !== undefined && history.counter !== undefined) {
      if (decoded.counter === history.counter) return frameHex === history.frame ? 'repeat' : 'replay';
      if (decoded.counter < history.counter) return 'stale';
    }
    if (decoded.counter === undefined) {
      if (decoded.repeatId !== undefined && decoded.repeatId === history.repeatId) return 'repeat';
      const recent = history.acceptedAt !== undefined && receivedAt - history.acceptedAt < IDENTICAL_FRAME_WINDOW_MS;
      if (decoded.repeatId === undefined && recent && frameHex === history.frame) return 'repeat';
    }
    const next: DeviceHistory = { frame: frameHex, acceptedAt: receivedAt };
    if (decoded.counter !== undefined) next.counter = decoded.counter;
    if (decoded.repeatId !== undefined) next.repeatId = decoded.repeatId;
    this.history.set(mac, next);
    return 'fresh';
  }

  /** The device's counter state to persist across restarts; undefined when there is none yet. */
  saved(mac: string): SavedCounter | undefined {
    const history = this.history.get(mac);
    if (history?.counterUnknown) return { unknown: true };
    return history?.counter !== undefined ? { counter: history.counter } : undefined;
  }

  restore(mac: string, saved: SavedCounter): void {
    this.history.set(mac, 'unknown' in saved ? { counterUnknown: true } : { ...this.history.get(mac), counter: saved.counter });
  }

  /** The operator re-paired or removed the device: its counter starts over with the next frame. */
  forget(mac: string): void {
    this.history.delete(mac);
  }
}
