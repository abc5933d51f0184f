import type { Clock } from '../shared/clock.js';

/**
 * Calls `emit(key)` at most once per `intervalMs` for each key: the first touch at once, later
 * touches within the interval once at its end (so the last change is never swallowed).
 */
export class PerKeyThrottle<K> {
  private readonly lastEmit = new Map<K, number>();
  private readonly pending = new Map<K, NodeJS.Timeout>();

  constructor(private readonly deps: { clock: Clock; intervalMs: number; emit: (key: K) => void }) {}

  touch(key: K): void {
    if (this.pending.has(key)) return;
    const wait = (this.lastEmit.get(key) ?? -Infinity) + this.deps.intervalMs - this.deps.clock.now();
    if (wait <= 0) {
      this.fire(key);
      return;
    }
    const timer = setTimeout(() => {
      this.pending.delete(key);
      this.fire(key);
    }, wait);
    timer.unref();
    this.pending.set(key, timer);
  }

  forget(key: K): void {
    clearTimeout(this.pending.get(key));
    this.pending.delete(key);
    this.lastEmit.delete(key);
  }

  private fire(key: K): void {
    this.lastEmit.set(key, this.deps.clock.now());
    this.deps.emit(key);
  }
}
