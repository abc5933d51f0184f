import { OtaError } from './reasons.js';

/**
 * Canonical JSON, the only encoding a signed document may have:
 * - object keys sorted by UTF-16 code units (JavaScript's default sort), no duplicates;
 * - no whitespace anywhere;
 * - numbers are integers in ±(2^53 − 1), written in plain decimal (no `-0`, `1.0`, `1e3`);
 * - strings exactly as `JSON.stringify` writes them (ES2019 well-formed), UTF-8 encoded;
 * - only objects, arrays, strings, integers, booleans and null.
 * Because the encoding is unique, the signed bytes and the parsed value cannot disagree.
 */
export type CanonicalValue = null | boolean | number | string | CanonicalValue[] | { [key: string]: CanonicalValue };

export function canonicalize(value: unknown, at = '$'): string {
  if (value === null || typeof value === 'boolean') return JSON.stringify(value);
  if (typeof value === 'number') {
    if (!Number.isSafeInteger(value) || Object.is(value, -0)) {
      throw new RangeError(`"${at}": expected an integer within ±(2^53 - 1), got ${value}`);
    }
    return String(value);
  }
  if (typeof value === 'string') return JSON.stringify(value);
  if (Array.isArray(value)) return `[${value.map((item, i) => canonicalize(item, `${at}[${i}]`)).join(',')}]`;
  if (typeof value === 'object') {
    const entries = Object.entries(value as Record<string, unknown>)
      .filter(([, v]) => v !== undefined)
      .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
    return `{${entries.map(([k, v]) => `${JSON.stringify(k)}:${canonicalize(v, `${at}.${k}`)}`).join(',')}}`;
  }
  throw new TypeError(`"${at}": ${typeof value} cannot be encoded as canonical JSON`);
}

export function canonicalBytes(value: unknown): Uint8Array {
  return new TextEncoder().encode(canonicalize(value));
}

/**
 * Parses bytes that must already be canonical. Anything else (whitespace, reordered or duplicate
 * keys, floats, big numbers, invalid UTF-8) is refused rather than normalised.
 */
export function parseCanonical(bytes: Uint8Array, what: string): CanonicalValue {
  let text: string;
  let value: unknown;
  try {
    text = new TextDecoder('utf-8', { fatal: true }).decode(bytes);
    value = JSON.parse(text);
  } catch (error) {
    throw new OtaError('manifest-invalid', `${what} is not valid UTF-8 JSON (${(error as Error).message})`);
  }
  const unsafe = findUnsafeNumber(value, '$');
  if (unsafe) throw new OtaError('manifest-number-out-of-range', `${what} "${unsafe}": numbers must be integers within ±(2^53 - 1)`);
  let canonical: string | undefined;
  try {
    canonical = canonicalize(value);
  } catch {
    canonical = undefined; // e.g. -0, which has no canonical spelling
  }
  if (canonical !== text) {
    throw new OtaError('manifest-not-canonical', `${what} is not canonical JSON (sorted keys, no whitespace, integers only, no duplicate keys)`);
  }
  return value as CanonicalValue;
}

function findUnsafeNumber(value: unknown, at: string): string | undefined {
  if (typeof value === 'number') return Number.isSafeInteger(value) ? undefined : at;
  if (Array.isArray(value)) {
    for (const [i, item] of value.entries()) {
      const found = findUnsafeNumber(item, `${at}[${i}]`);
      if (found) return found;
    }
  } else if (typeof value === 'object' && value !== null) {
    for (const [k, v] of Object.entries(value)) {
      const found = findUnsafeNumber(v, `${at}.${k}`);
      if (found) return found;
    }
  }
  return undefined;
}
