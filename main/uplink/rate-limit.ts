/** Token bucket: `rate` tokens per second, holding at most one second's worth. */
export class RateLimit {
  private tokens: number;
  private last: number;

  constructor(
    private readonly rate: number,
    now: number,
  ) {
    this.tokens = rate;
    this.last = now;
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

  /** Milliseconds until at least one token is available. */
  waitMs(now: number): number {
    this.refill(now);
    return this.tokens >= 1 ? 0 : Math.ceil(((1 - this.tokens) / this.rate) * 1000);
  }

  private refill(now: number): void {
    const elapsed = Math.max(0, now - this.last);
    this.last = now;
    this.tokens = Math.min(this.rate, this.tokens + (elapsed / 1000) * this.rate);
  }
}
