import { readFileSync } from 'node:fs';
import { z } from 'zod';
import type { SavedCounter } from './freshness.js';

/** One device in `counters.json`: its counter state and the pairing (allowlist `addedAt`) it belongs to. */
export interface CounterRecord {
  /** Absent in files written before pairings were recorded; such counters are kept for any pairing. */
  pairedAt?: number;
  saved: SavedCounter;
}

export type CounterFile = { kind: 'missing' } | { kind: 'unreadable'; problem: string } | { kind: 'read'; devices: Map<string, CounterRecord> };

const counter = z.number().int().min(0).max(0xffff_ffff);
const currentSchema = z.strictObject({
  version: z.literal(2),
  devices: z.record(
    z.string(),
    z.union([z.strictObject({ pairedAt: z.number(), counter }), z.strictObject({ pairedAt: z.number(), unknown: z.literal(true) })]),
  ),
});
/** The first format: MAC → last counter. */
const legacySchema = z.record(z.string(), counter);

export function readCounterFile(file: string): CounterFile {
  let value: unknown;
  try {
    value = JSON.parse(readFileSync(file, 'utf8'));
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return { kind: 'missing' };
    return { kind: 'unreadable', problem: error instanceof Error ? error.message : String(error) };
  }
  const current = currentSchema.safeParse(value);
  if (current.success) {
    const devices = new Map<string, CounterRecord>();
    for (const [mac, entry] of Object.entries(current.data.devices)) {
      devices.set(mac, { pairedAt: entry.pairedAt, saved: 'unknown' in entry ? { unknown: true } : { counter: entry.counter } });
    }
    return { kind: 'read', devices };
  }
  const legacy = legacySchema.safeParse(value);
  if (legacy.success) return { kind: 'read', devices: new Map(Object.entries(legacy.data).map(([mac, n]) => [mac, { saved: { counter: n } }])) };
  return { kind: 'unreadable', problem: 'not a counters file (expected {"version":2,"devices":{…}})' };
}

/** The file's text for the given devices; deterministic, so an unchanged state need not be written again. */
export function counterFileText(devices: ReadonlyMap<string, Required<CounterRecord>>): string {
  const entries = [...devices].map(([mac, record]) => [mac, { pairedAt: record.pairedAt, ...record.saved }]);
  return JSON.stringify({ version: 2, devices: Object.fromEntries(entries) });
}
