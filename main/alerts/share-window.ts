interface Tally {
  at: number;
  lines: number;
  rejected: number;
}

/**
 * Lines and rejects per serial port within a sliding window, fed from ever-growing totals
 * (fieldgate_serial_lines_total, fieldgate_serial_rejects_total). Totals start at zero with the
 * process; a total that went down (the counter was recreated) counts again from zero.
 */
export class ShareWindow {
  private readonly history = new Map<string, Tally[]>();

  /** Notes the totals of `port` at `now` and returns the lines and rejects since the window began. */
  update(port: string, totals: { lines: number; rejected: number }, now: number, windowMs: number): { lines: number; rejected: number } {
    let past = this.history.get(port) ?? [];
    const last = past.at(-1);
    if (!last || totals.lines < last.lines || totals.rejected < last.rejected) past = [{ at: now, lines: 0, rejected: 0 }];
    past.push({ at: now, ...totals });
    // The baseline is the newest tally at or before the window's start (or the oldest one kept).
    while (past.length > 2 && (past[1] as Tally).at <= now - windowMs) past.shift();
    this.history.set(port, past);
    const base = past[0] as Tally;
    return { lines: totals.lines - base.lines, rejected: totals.rejected - base.rejected };
  }

  /** Forgets ports no longer configured. */
  keep(ports: ReadonlySet<string>): void {
    for (const port of this.history.keys()) if (!ports.has(port)) this.history.delete(port);
  }
}
