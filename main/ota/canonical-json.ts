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

/** Signed documents are a few levels deep; the bound keeps every recursive walk far from the stack limit. */
export const MAX_CANONICAL_DEPTH = 16;

const UTF8_BOM = [0xef, 0xbb, 0xbf];

/**
 * Parses bytes that must already be canonical. Anything else (whitespace, reordered or duplicate
 * keys, floats, big numbers, invalid UTF-8, a byte-order mark) is refused rather than normalised.
 */
export function parseCanonical(bytes: Uint8Array, what: string): CanonicalValue {
  if (UTF8_BOM.every((byte, i) => bytes[i] === byte)) {
    throw new OtaError('manifest-not-canonical', `${what} starts with a UTF-8 byte-order mark; canonical JSON has none`);
  }
  let text: string;
  let value: unknown;
  try {
    // ignoreBOM keeps a BOM in the text, so no decoder step can make two encodings look alike.
    text = new TextDecoder('utf-8', { fatal: true, ignoreBOM: true }).decode(bytes);
  } catch (error) {
    throw new OtaError('manifest-invalid', `${what} is not valid UTF-8 (${(error as Error).message})`);
  }
  const depth = nestingDepth(text, MAX_CANONICAL_DEPTH);
  if (depth > MAX_CANONICAL_DEPTH) {
    throw new OtaError('manifest-too-deep', `${what} nests objects and arrays more than ${MAX_CANONICAL_DEPTH} levels deep`);
  }
  try {
    value = JSON.parse(text);
  } catch (error) {
    throw new OtaError('manifest-invalid', `${what} is not valid JSON (${(error as Error).message})`);
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

/** The deepest bracket nesting outside strings, counting stops once it passes `limit`. */
function nestingDepth(text: string, limit: number): number {
  let depth = 0;
  let deepest = 0;
  let inString = false;
  for (let i = 0; i < text.length; i += 1) {
    const char = text[i];
    if (inString) {
      if (char === '\\') i += 1;
      else if (char === '"') inString = false;
    } else if (char === '"') {
      inString = true;
    } else if (char === '{' || char === '[') {
      depth += 1;
      if (depth > deepest) deepest = depth;
      if (deepest > limit) return deepest;
    } else if (char === '}' || char === ']') {
      depth -= 1;
    }
  }
  return deepest;
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
