import type { Logger } from '../../log/logger.js';
import type { Clock } from '../../shared/clock.js';
import type { Counter } from 'prom-client';

/** Why sensor input was dropped; the `reason` label of `fieldgate_serial_rejects_total` and `fieldgate_modbus_tcp_rejects_total`. */
export type RejectReason =
  | 'line-too-long'
  | 'bad-utf8'
  | 'bad-json'
  | 'bad-format'
  | 'bad-value'
  | 'no-values'
  | 'too-many-values'
  | 'column-count'
  | 'unknown-sensor'
  | 'bad-sensor-id'
  | 'rate-limited'
  | 'bad-crc'
  | 'bad-frame'
  | 'exception'
  | 'timeout'
  | 'partial-poll'
  | 'internal';

const SAMPLE_INTERVAL_MS = 10_000;
const SAMPLE_BYTES = 64;

interface ReasonLog {
  lastLogged: number;
  suppressed: number;
}

export interface RejectLogDeps<L extends string> {
  /** Where the input came from (`{ port }`, `{ server }`): labels of the counter and fields of the log line. */
  labels: Record<L, string>;
  counter: Counter<L | 'reason'>;
  log: Logger;
  clock: Clock;
}

/**
 * Counts every rejected line or frame and logs a sample of each reason at most once per
 * interval, with how many were suppressed since, so a babbling sensor cannot flood the journal.
 */
export class RejectLog<L extends string = string> {
  private readonly byReason = new Map<RejectReason, ReasonLog>();

  constructor(private readonly deps: RejectLogDeps<L>) {}

  reject(reason: RejectReason, detail: string, raw?: Uint8Array): void {
    this.deps.counter.inc({ ...this.deps.labels, reason } as Record<L | 'reason', string>);
    const now = this.deps.clock.now();
    const entry = this.byReason.get(reason);
    if (entry && now - entry.lastLogged < SAMPLE_INTERVAL_MS) {
      entry.suppressed++;
      return;
    }
    const suppressed = entry?.suppressed ?? 0;
    this.byReason.set(reason, { lastLogged: now, suppressed: 0 });
    const where: Record<string, string> = this.deps.labels;
    this.deps.log.warn(
      { ...where, reason, detail, ...(raw && { sample: printable(raw) }), suppressedSinceLast: suppressed },
      'sensor input rejected',
    );
  }
}

/** The first bytes of raw input, safe for a log line: printable ASCII as is, the rest as \xNN. */
export function printable(raw: Uint8Array): string {
  let text = '';
  for (const byte of raw.subarray(0, SAMPLE_BYTES)) {
    text += byte >= 0x20 && byte < 0x7f && byte !== 0x5c ? String.fromCharCode(byte) : `\\x${byte.toString(16).padStart(2, '0')}`;
  }
  return raw.length > SAMPLE_BYTES ? `${text}… (${raw.length} bytes)` : text;
}
