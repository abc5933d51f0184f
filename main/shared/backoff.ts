export interface BackoffOptions {
  /** Cap of the first delay; every further failure doubles the cap up to `maxMs`. */
  initialMs: number;
  maxMs: number;
  /** A connection that stayed up this long counts as stable: the next failure starts over at `initialMs`. */
  stableMs: number;
  /** Uniform in [0, 1); injected so tests are deterministic. Default Math.random. */
  random?: () => number;
}

/**
 * Exponential backoff with full jitter (delay = random × min(max, initial × 2^attempt)), so a
 * fleet that lost its broker (or a box that lost its sensors) at the same moment does not retry in
 * lockstep. Time comes from the caller.
 */
export class Backoff {
  private attempt = 0;
  private connectedAt: number | undefined;

  constructor(private readonly options: BackoffOptions) {}

  /** Call when a connection is established. */
  connected(now: number): void {
    this.connectedAt = now;
  }

  /** Call when a connection ended (or an attempt failed); returns how long to wait before the next attempt. */
  nextDelay(now: number): number {
    if (this.connectedAt !== undefined && now - this.connectedAt >= this.options.stableMs) this.attempt = 0;
    this.connectedAt = undefined;
    const cap = this.currentCap();
    this.attempt++;
    return Math.floor((this.options.random ?? Math.random)() * cap);
  }

  /** The upper bound the next delay will be drawn from. */
  currentCap(): number {
    const exponent = Math.min(this.attempt, 30);
    return Math.min(this.options.maxMs, this.options.initialMs * 2 ** exponent);
  }
}
