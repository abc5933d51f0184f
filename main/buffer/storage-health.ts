import type { Clock } from '../shared/clock.js';
import type { BufferMetrics } from './metrics.js';
import type { BufferAlert } from './types.js';
import { CAPACITY_REARM, RECOVERY_QUIET_MS, type BufferConfig } from '../shared/config/buffer.js';
import { classifyStorageError, errorMessage, type StorageFailure } from './errors.js';

export interface StorageHealthDeps {
  options: Pick<BufferConfig, 'maxRows' | 'maxBytes' | 'fullPolicy'>;
  clock: Clock;
  metrics: BufferMetrics | undefined;
  raise(alert: Omit<BufferAlert, 'ts'>): void;
}

/**
 * Whether storage is failing and whether the buffer is dropping for capacity: one alert when
 * either starts (or the failure changes kind) and one when storage works again, not one per write.
 */
export class StorageHealth {
  #failing: StorageFailure | undefined;
  private lastFailureAt = 0;
  private capacityAlerted = false;

  constructor(private readonly deps: StorageHealthDeps) {}

  get failing(): StorageFailure | undefined {
    return this.#failing;
  }

  failed(error: unknown): void {
    const failure = classifyStorageError(error);
    this.deps.metrics?.storageErrors.inc({ kind: failure });
    this.lastFailureAt = this.deps.clock.now();
    if (this.#failing !== failure) {
      this.#failing = failure;
      const message =
        failure === 'disk-full'
          ? `buffer disk is full (${errorMessage(error)}): applying ${this.deps.options.fullPolicy}; free space on the data partition`
          : `buffer storage failed (${errorMessage(error)}); readings may be lost until it works again`;
      this.deps.raise({ kind: failure, severity: 'critical', message });
    }
  }

  /** A write stored readings at `at`. */
  stored(at: number): void {
    if (this.#failing && at - this.lastFailureAt >= RECOVERY_QUIET_MS) {
      this.#failing = undefined;
      this.deps.raise({ kind: 'recovered', severity: 'info', message: 'buffer storage works again; readings are being stored' });
    }
  }

  /** After each successful group commit, with the buffer's size once it is applied. */
  committed(capacityDrops: number, depth: number, bytes: number): void {
    const { maxRows, maxBytes, fullPolicy } = this.deps.options;
    if (capacityDrops > 0) {
      if (!this.capacityAlerted && !this.#failing) {
        this.capacityAlerted = true;
        this.deps.raise({
          kind: 'capacity',
          severity: 'warning',
          message: `buffer is full (${depth} readings, ${bytes} bytes): policy ${fullPolicy} is dropping readings`,
        });
      }
    } else if (depth < maxRows * CAPACITY_REARM && bytes < maxBytes * CAPACITY_REARM) {
      this.capacityAlerted = false;
    }
  }
}
