export interface BackoffOptions {
  baseMs: number;
  capMs: number;
  random?: () => number;
}

/**
 * Exponential backoff with full jitter: the n-th retry waits a random time in
 * [0, min(cap, base * 2^n)). `reset` after a connection proved stable.
 */
export class Backoff {
  private attempt = 0;

  constructor(private readonly options: BackoffOptions) {}

  nextDelayMs(): number {
    const ceiling = Math.min(this.options.capMs, this.options.baseMs * 2 ** Math.min(this.attempt, 30));
    this.attempt++;
    return Math.floor((this.options.random ?? Math.random)() * ceiling);
  }

  reset(): void {
    this.attempt = 0;
  }
}
