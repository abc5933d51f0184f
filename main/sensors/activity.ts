import type { Clock } from '../shared/clock.js';
import type { SensorFacts, SensorStatus } from '../shared/source.js';

const RATE_WINDOW_MS = 10_000;

interface Entry {
  online: boolean;
  lastSeen: number | null;
  /** Receive times within the rate window, oldest first, each with how many samples arrived then. */
  recent: { at: number; samples: number }[];
  facts: SensorFacts;
}

/** Per-sensor last-seen time, online flag and recent rate, shared by every source. */
export class SensorActivity {
  private readonly entries = new Map<string, Entry>();

  constructor(private readonly deps: { source: string; clock: Clock }) {}

  /** Adds the sensor if it is new; `facts` (its port, its latest RSSI) are merged into what is known. */
  register(sensorId: string, facts: SensorFacts = {}): void {
    const entry = this.entries.get(sensorId);
    if (entry) Object.assign(entry.facts, facts);
    else this.entries.set(sensorId, { online: false, lastSeen: null, recent: [], facts: { ...facts } });
  }

  /** `samples` arrived now (a source that emits in bursts, as the simulator does, reports a burst at once). */
  seen(sensorId: string, facts: SensorFacts = {}, samples = 1): void {
    const now = this.deps.clock.now();
    this.register(sensorId, facts);
    const entry = this.entries.get(sensorId) as Entry;
    entry.online = true;
    entry.lastSeen = now;
    entry.recent.push({ at: now, samples });
    this.trim(entry, now);
  }

  setOnline(sensorId: string, online: boolean): void {
    this.register(sensorId);
    (this.entries.get(sensorId) as Entry).online = online;
  }

  statuses(): SensorStatus[] {
    const now = this.deps.clock.now();
    return [...this.entries].map(([sensorId, entry]) => {
      this.trim(entry, now);
      return {
        sensorId,
        source: this.deps.source,
        online: entry.online,
        lastSeen: entry.lastSeen,
        rate: entry.recent.reduce((sum, arrival) => sum + arrival.samples, 0) / (RATE_WINDOW_MS / 1000),
        ...entry.facts,
      };
    });
  }

  private trim(entry: Entry, now: number): void {
    const cutoff = now - RATE_WINDOW_MS;
    let drop = 0;
    while (drop < entry.recent.length && (entry.recent[drop] as { at: number }).at < cutoff) drop++;
    if (drop > 0) entry.recent.splice(0, drop);
  }
}
