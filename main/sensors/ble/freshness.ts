import type { DecodedAdvertisement } from './decoders/types.js';

/**
 * - `fresh`: a new measurement.
 * - `repeat`: the same measurement again (same packet id, Ruuvi sequence, or an identical encrypted frame).
 * - `stale`: an encrypted counter not above the last accepted one (a replay of an older frame).
 * - `replay`: the last accepted counter with different content.
 * - `downgrade`: a plaintext frame from a device that has a bind key.
 */
export type Freshness = 'fresh' | 'repeat' | 'stale' | 'replay' | 'downgrade';

/** Counters at or below this count as a device reset (BTHome devices restart from 0 after power loss). */
export const COUNTER_RESET_WINDOW = 16;

/** Frames without a packet id or sequence: identical bytes within this window are the same measurement re-sent. */
export const IDENTICAL_FRAME_WINDOW_MS = 30_000;

interface DeviceHistory {
  counter?: number;
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
    if (keyed && !decoded.encrypted) return 'downgrade';
    const history = this.history.get(mac) ?? {};
    if (decoded.counter !== undefined && history.counter !== undefined) {
      if (decoded.counter === history.counter) return frameHex === history.frame ? 'repeat' : 'replay';
      const reset = decoded.counter <= COUNTER_RESET_WINDOW && history.counter > COUNTER_RESET_WINDOW;
      if (decoded.counter < history.counter && !reset) return 'stale';
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

  /** Last accepted counters, to persist across restarts. */
  counters(): Record<string, number> {
    const out: Record<string, number> = {};
    for (const [mac, h] of this.history) if (h.counter !== undefined) out[mac] = h.counter;
    return out;
  }

  restoreCounters(counters: Record<string, number>): void {
    for (const [mac, counter] of Object.entries(counters)) this.history.set(mac, { ...this.history.get(mac), counter });
  }

  forget(mac: string): void {
    this.history.delete(mac);
  }
}
