import { ApiError } from '../shared/api.js';

export interface ThrottlePolicy {
  /** Failures allowed before the first lockout. */
  freeFailures: number;
  /** The first lockout; each further failure doubles it. */
  baseLockMs: number;
  maxLockMs: number;
  /** A key with no failure for this long starts over. */
  forgetAfterMs: number;
}

export const DEFAULT_THROTTLE: ThrottlePolicy = { freeFailures: 5, baseLockMs: 30_000, maxLockMs: 60 * 60_000, forgetAfterMs: 24 * 60 * 60_000 };

interface Record {
  failures: number;
  lastFailureAt: number;
  lockedUntil: number;
}

/**
 * Exponential lockout per key. Login uses two keys per attempt, the account and the client
 * address, so neither guessing one account from many addresses nor many accounts from one
 * address gets far.
 */
export class LoginThrottle {
  private readonly records = new Map<string, Record>();

  constructor(private readonly deps: { now: () => number; policy?: ThrottlePolicy }) {}

  private get policy(): ThrottlePolicy {
    return this.deps.policy ?? DEFAULT_THROTTLE;
  }

  /** Throws `locked` with the seconds to wait when any key is locked. */
  assertAllowed(keys: readonly string[]): void {
    const now = this.deps.now();
    const until = Math.max(0, ...keys.map((key) => this.live(key, now)?.lockedUntil ?? 0));
    if (until > now) {
      const retryAfterSeconds = Math.ceil((until - now) / 1000);
      throw new ApiError('locked', `too many failed attempts: try again in ${retryAfterSeconds} s`, {
        retryAfterSeconds,
        hint: `wait until ${new Date(until).toISOString()}`,
      });
    }
  }

  fail(keys: readonly string[]): void {
    const now = this.deps.now();
    const { freeFailures, baseLockMs, maxLockMs } = this.policy;
    for (const key of keys) {
      const record = this.live(key, now) ?? { failures: 0, lastFailureAt: now, lockedUntil: 0 };
      record.failures += 1;
      record.lastFailureAt = now;
      const over = record.failures - freeFailures;
      if (over >= 0) record.lockedUntil = now + Math.min(maxLockMs, baseLockMs * 2 ** Math.min(over, 30));
      this.records.set(key, record);
    }
    if (this.records.size > 10_000) this.forgetOld(now);
  }

  succeed(keys: readonly string[]): void {
    for (const key of keys) this.records.delete(key);
  }

  private live(key: string, now: number): Record | undefined {
    const record = this.records.get(key);
    if (record && now - record.lastFailureAt > this.policy.forgetAfterMs && now >= record.lockedUntil) {
      this.records.delete(key);
      return undefined;
    }
    return record;
  }

  private forgetOld(now: number): void {
    for (const key of [...this.records.keys()]) this.live(key, now);
  }
}
