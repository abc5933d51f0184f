/**
 * Token bucket: `ratePerSecond` tokens per second, holding at most one second's worth (at least
 * one token). Time comes from the caller, so it is pure and testable with a fake clock.
 */
export class TokenBucket {
  private tokens: number;
  /** When tokens were last counted; a bucket starts full, so before its first use any time will do. */
  private last: number | undefined;
  private readonly capacity: number;

  constructor(private readonly ratePerSecond: number) {
    this.capacity = Math.max(1, ratePerSecond);
    this.tokens = this.capacity;
  }

  /** Whole tokens available now, at most `max`. */
  available(now: number, max: number): number {
    this.refill(now);
    return Math.max(0, Math.min(max, Math.floor(this.tokens)));
  }

  take(count: number, now: number): void {
    this.refill(now);
    this.tokens -= count;
  }

  /** Takes one token if there is one. */
  tryTake(now: number): boolean {
    if (this.available(now, 1) === 0) return false;
    this.tokens -= 1;
    return true;
  }

  /** Milliseconds until at least one token is available. */
  waitMs(now: number): number {
    this.refill(now);
    return this.tokens >= 1 ? 0 : Math.ceil(((1 - this.tokens) / this.ratePerSecond) * 1000);
  }

  private refill(now: number): void {
    const elapsed = Math.max(0, now - (this.last ?? now));
    this.last = now;
    this.tokens = Math.min(this.capacity, this.tokens + (elapsed / 1000) * this.ratePerSecond);
  }
}
