import { z } from 'zod';
import { durationMs } from './common.js';

const positiveInt = z.number().int({ error: 'expected an integer > 0' }).positive({ error: 'expected an integer > 0' });
const share = z.number().gt(0, { error: 'expected a number > 0 and <= 1' }).max(1, { error: 'expected a number > 0 and <= 1' });

/** Rules that raise and clear alerts; every key has a default (README "Alerts and health"). */
export const alertsSchema = z
  .strictObject({
    /** How often the rules look at sensors, buffer, disk, cloud and logins. */
    checkIntervalMs: durationMs.min(100, { error: 'expected an integer >= 100 (milliseconds)' }).default(5_000),
    /** Cleared alerts kept for the API's `recent` list. */
    keepRecent: positiveInt.default(200),
    sensorSilent: z
      .strictObject({
        /** Silent after this many of its learned intervals without a reading… */
        intervals: z.number().gt(1, { error: 'expected a number > 1' }).default(5),
        /** …but never sooner than this (a serial port's `staleAfterMs` wins when set). */
        floorMs: durationMs.min(100, { error: 'expected an integer >= 100 (milliseconds)' }).default(60_000),
      })
      .prefault({}),
    sensorFlooding: z
      .strictObject({
        /** Flooding when the rate exceeds this many times the learned rate… */
        rateFactor: z.number().gt(1, { error: 'expected a number > 1' }).default(10),
        /** …or when more than this share of a serial port's lines are rejected. */
        rejectShare: share.default(0.5),
        /** Lines needed within the window before the reject share counts. */
        minLines: positiveInt.default(20),
        /** The reject share is taken over the lines of this last stretch of time. */
        windowMs: durationMs.min(1_000, { error: 'expected an integer >= 1000 (milliseconds)' }).default(60_000),
      })
      .prefault({}),
    buffer: z
      .strictObject({
        /** Share of `buffer.maxRows` or `buffer.maxBytes` above which `buffer-filling` is raised. */
        fillShare: share.default(0.8),
        /** `buffer-stale` when the oldest unsent reading is older than this. */
        oldestUnsentMs: durationMs.min(1_000, { error: 'expected an integer >= 1000 (milliseconds)' }).default(3_600_000),
      })
      .prefault({}),
    disk: z
      .strictObject({
        /** `disk-low` when the data dir's filesystem has fewer free bytes than this. */
        minFreeBytes: z.number().int().min(0).default(100 * 1024 * 1024),
      })
      .prefault({}),
    cloudFailures: z
      .strictObject({
        /** `cloud-failing` when one error kind happens this often… */
        count: positiveInt.default(3),
        /** …within this window. */
        windowMs: durationMs.min(1_000, { error: 'expected an integer >= 1000 (milliseconds)' }).default(600_000),
      })
      .prefault({}),
    loginFailures: z
      .strictObject({
        /** `login-failures` when this many local API sign-ins fail… */
        count: positiveInt.default(10),
        /** …within this window. */
        windowMs: durationMs.min(1_000, { error: 'expected an integer >= 1000 (milliseconds)' }).default(600_000),
      })
      .prefault({}),
  })
  .prefault({});

export type AlertsConfig = z.infer<typeof alertsSchema>;
