import type { BufferConfig } from '../shared/config/buffer.js';
import type { Reading, Sample } from '../shared/reading.js';

/** A group commit is written at once when this many appends (or acks) are waiting, without waiting for the window. */
export const MAX_BATCH = 10_000;
const RETRY_MS = 1_000;

/** An append waiting for its group commit; its seq is already taken. */
export interface PendingAppend {
  sample: Sample;
  seq: number;
  valuesJson: string;
  wire: string;
  size: number;
  resolve(reading: Reading): void;
  reject(error: Error): void;
}

export interface GroupCommitDeps {
  options: Pick<BufferConfig, 'commitWindowMs'>;
  /** Writes the group commit; it takes the waiting appends with `take`. */
  commit(): void;
}

/**
 * Collects appends for the next group commit and decides when it is written: at the end of the
 * commit window (the next event-loop turn for a window of 0), at once when MAX_BATCH are waiting,
 * and a second after a write that failed.
 */
export class GroupCommit {
  private pending: PendingAppend[] = [];
  private timer: { cancel(): void } | undefined;
  private retryTimer: NodeJS.Timeout | undefined;

  constructor(private readonly deps: GroupCommitDeps) {}

  add(item: PendingAppend): void {
    this.pending.push(item);
    if (this.pending.length >= MAX_BATCH) this.deps.commit();
    else this.schedule();
  }

  schedule(): void {
    if (this.timer) return;
    const window = this.deps.options.commitWindowMs;
    if (window === 0) {
      const immediate = setImmediate(() => this.deps.commit());
      this.timer = { cancel: () => clearImmediate(immediate) };
    } else {
      const timeout = setTimeout(() => this.deps.commit(), window);
      this.timer = { cancel: () => clearTimeout(timeout) };
    }
  }

  /** The appends for the commit being written now; the scheduled one is cancelled. */
  take(): PendingAppend[] {
    this.timer?.cancel();
    this.timer = undefined;
    const batch = this.pending;
    this.pending = [];
    return batch;
  }

  retryLater(): void {
    if (!this.retryTimer) {
      this.retryTimer = setTimeout(() => {
        this.retryTimer = undefined;
        this.deps.commit();
      }, RETRY_MS);
      this.retryTimer.unref();
    }
  }

  /** A write succeeded: no retry needed. */
  written(): void {
    clearTimeout(this.retryTimer);
    this.retryTimer = undefined;
  }

  stop(): void {
    clearTimeout(this.retryTimer);
    this.retryTimer = undefined;
  }
}
