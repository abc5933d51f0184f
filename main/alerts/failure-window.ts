/**
 * Counts of events per kind within a sliding window, fed from ever-growing totals (the uplink's
 * error counters, the API's login failure counter). A total that went down (the part was
 * rebuilt) starts counting again from there.
 */
export class FailureWindow {
  private readonly totals = new Map<string, number>();
  private readonly events = new Map<string, number[]>();

  /** Notes `total` for `kind` at `now` and returns how many happened within `windowMs` before it. */
  update(kind: string, total: number, now: number, windowMs: number): number {
    const before = this.totals.get(kind) ?? 0;
    this.totals.set(kind, total);
    const times = (this.events.get(kind) ?? []).filter((at) => at > now - windowMs);
    for (let i = 0; i < total - before; i++) times.push(now);
    this.events.set(kind, times);
    return times.length;
  }

  kinds(): string[] {
    return [...this.events.keys()];
  }

  /** Forgets the events (not the totals): after a success, failures count from zero. */
  reset(): void {
    this.events.clear();
  }
}
