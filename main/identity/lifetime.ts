const DAY_MS = 86_400_000;

export type ValidityState = 'not-yet-valid' | 'valid' | 'expired';

export interface Lifetime {
  notBefore: Date;
  notAfter: Date;
}

export function validityAt(lifetime: Lifetime, now: number): ValidityState {
  if (now < lifetime.notBefore.getTime()) return 'not-yet-valid';
  if (now > lifetime.notAfter.getTime()) return 'expired';
  return 'valid';
}

/** Whole days until expiry, rounded down; negative once expired. */
export function daysLeft(lifetime: Lifetime, now: number): number {
  return Math.floor((lifetime.notAfter.getTime() - now) / DAY_MS);
}

/** When rotation is due: once `share` of the lifetime has passed. */
export function rotationDueAt(lifetime: Lifetime, share: number): number {
  const start = lifetime.notBefore.getTime();
  return start + Math.floor((lifetime.notAfter.getTime() - start) * share);
}

/** The smallest threshold the days left have reached (e.g. 7 when 5 days are left of [30, 7]), if any. */
export function expiryThresholdReached(days: number, thresholds: readonly number[]): number | undefined {
  const reached = thresholds.filter((threshold) => days <= threshold);
  return reached.length === 0 ? undefined : Math.min(...reached);
}

export function clockLooksWrongMessage(now: number, notBefore: Date): string {
  return (
    `device certificate is not valid yet: system clock looks wrong (now=${new Date(now).toISOString()}, notBefore=${notBefore.toISOString()}). ` +
    'Fix the time (NTP: timedatectl set-ntp true, or an RTC), then start again'
  );
}

export function expiredMessage(now: number, notAfter: Date): string {
  const ago = Math.max(0, Math.floor((now - notAfter.getTime()) / DAY_MS));
  return (
    `device certificate expired on ${notAfter.toISOString()} (${ago} day${ago === 1 ? '' : 's'} ago, now=${new Date(now).toISOString()}). ` +
    'The broker will refuse it: run "fieldgate identity csr", have it signed and "fieldgate identity import" the new certificate'
  );
}
