/**
 * Token bucket: `ratePerSecond` sustained, bursts up to one second's worth. Time comes from the
 * caller, so it is pure and testable with a fake clock.
 */
export class RateLimiter {
  private tokens: number;
  private lastRefill: number | undefined;
  private readonly capacity: number;

  constructor(private readonly ratePerSecond: number) {
    this.capacity = Math.max(1, ratePerSecond);
    this.tokens = this.capacity;
  }

  tryTake(now: number): boolean {
    if (this.lastRefill !== undefined && now > this.lastRefill) {
      this.tokens = Math.min(this.capacity, this.tokens + ((now - this.lastRefill) * this.ratePerSecond) / 1000);
    }
    this.lastRefill = now;
    if (this.tokens < 1) return false;
    this.tokens -= 1;
    return true;
  }
}
