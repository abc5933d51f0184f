/** Words and numbers for people: relative times, ages, sizes. */

export function relativeTime(at: string | number | null | undefined, now: number): string {
  if (at === null || at === undefined) return 'never';
  const ms = now - (typeof at === 'number' ? at : Date.parse(at));
  if (!Number.isFinite(ms)) return 'unknown';
  if (ms < 1500) return 'just now';
  return `${duration(ms)} ago`;
}

/** "in 20 s" for a time ahead, "now" once it passed. */
export function timeUntil(at: string | number, now: number): string {
  const ms = (typeof at === 'number' ? at : Date.parse(at)) - now;
  return ms <= 0 ? 'now' : `in ${duration(ms)}`;
}

/** A countdown as m:ss. */
export function countdown(ms: number): string {
  const seconds = Math.max(0, Math.floor(ms / 1000));
  return `${Math.floor(seconds / 60)}:${String(seconds % 60).padStart(2, '0')}`;
}

export function duration(ms: number): string {
  const seconds = Math.round(ms / 1000);
  if (seconds < 90) return `${seconds} s`;
  const minutes = Math.round(seconds / 60);
  if (minutes < 90) return `${minutes} min`;
  const hours = Math.round(minutes / 60);
  if (hours < 48) return `${hours} h`;
  return `${Math.round(hours / 24)} days`;
}

export { formatBytes as bytes } from '../main/shared/units.js';

export function clockTime(at: string | number): string {
  return new Date(at).toLocaleTimeString([], { hour: '2-digit', minute: '2-digit', second: '2-digit' });
}

export function errorMessage(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}
