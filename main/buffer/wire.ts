/**
 * The wire JSON of one reading (a `WireReading`, main/shared/reading.ts), built from the already
 * encoded values so nothing is encoded twice. The only encoder of readings: the uplink splices
 * these into its messages.
 */
export function encodeWire(sensorId: string, seq: number, ts: number, valuesJson: string): string {
  return `{"sensor":${JSON.stringify(sensorId)},"seq":${seq},"ts":"${isoTime(ts)}","values":${valuesJson}}`;
}

/** The minute the last formatted timestamp fell in, and its `YYYY-MM-DDTHH:MM:` text. */
let minuteStart = Number.NaN;
let minutePrefix = '';

/**
 * `new Date(ts).toISOString()`, reusing the date, hour and minute of the previous call: readings
 * arrive (and drain) in time order, so only seconds and milliseconds usually change.
 */
export function isoTime(ts: number): string {
  const offset = ts - minuteStart;
  if (offset >= 0 && offset < 60_000 && Number.isInteger(ts)) {
    const seconds = Math.floor(offset / 1_000);
    const ms = offset - seconds * 1_000;
    return `${minutePrefix}${seconds < 10 ? '0' : ''}${seconds}.${ms < 100 ? (ms < 10 ? '00' : '0') : ''}${ms}Z`;
  }
  const iso = new Date(ts).toISOString();
  // Years outside 0000-9999 print six digits and a sign; fractional ms are truncated by Date: no shortcut for those.
  if (iso.length === 24 && Number.isInteger(ts)) {
    minuteStart = ts - (((ts % 60_000) + 60_000) % 60_000);
    minutePrefix = iso.slice(0, 17);
  }
  return iso;
}
