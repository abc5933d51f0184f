/** Weight of a new gap in the learned interval. */
const LEARN = 0.2;
/** Samples before a sensor's interval counts as learned. */
const MIN_SAMPLES = 3;
/**
 * Seconds a sample waits before the baseline learns from it: longer than the window of the rate the
 * flooding rule compares with, so a flood is seen (and the baseline frozen) before it could be learned.
 */
const HOLD_SECONDS = 10;
/** The baseline rate is an average over about this long (exponentially weighted). */
const BASELINE_TAU_SECONDS = 600;
/** The baseline counts once it learned from this many samples over at least HOLD_SECONDS seconds. */
const BASELINE_MIN_SAMPLES = 20;
/** Of one long gap, only this many silent seconds are learned: the baseline is the rate while a sensor reports, not while it is unplugged. */
const MAX_SILENT_SECONDS = 300;

interface Learned {
  lastAt: number;
  samples: number;
  intervalMs: number;
  /** Samples per second of the newest HOLD_SECONDS seconds, by `second % HOLD_SECONDS`. */
  held: number[];
  /** The newest second in `held`. */
  second: number;
  /** Exponentially weighted samples per second learned so far, and the seconds and samples it covers. */
  baseline: { rate: number; seconds: number; samples: number };
  /** Seconds up to which held samples are discarded instead of learned (a flood was seen). */
  frozenUntil: number;
}

/** How often each sensor reports, learned from accepted samples (for the silent and flooding rules). */
export class SensorIntervals {
  private readonly sensors = new Map<string, Learned>();

  observe(sensorId: string, at: number): void {
    const second = Math.floor(at / 1000);
    const known = this.sensors.get(sensorId);
    if (!known) {
      const held = new Array<number>(HOLD_SECONDS).fill(0);
      held[second % HOLD_SECONDS] = 1;
      // The seconds before its first sample are not learned.
      this.sensors.set(sensorId, { lastAt: at, samples: 1, intervalMs: 0, held, second, baseline: { rate: 0, seconds: 0, samples: 0 }, frozenUntil: second - 1 });
      return;
    }
    const gap = Math.max(at - known.lastAt, 0);
    known.intervalMs = known.samples === 1 ? gap : known.intervalMs * (1 - LEARN) + gap * LEARN;
    known.lastAt = at;
    known.samples++;
    advance(known, second);
    known.held[known.second % HOLD_SECONDS] = (known.held[known.second % HOLD_SECONDS] ?? 0) + 1;
  }

  lastAt(sensorId: string): number | undefined {
    return this.sensors.get(sensorId)?.lastAt;
  }

  /** The learned gap between two samples, once learned. */
  intervalMs(sensorId: string): number | undefined {
    const known = this.sensors.get(sensorId);
    return known && known.samples >= MIN_SAMPLES ? known.intervalMs : undefined;
  }

  /** The long-run rate in samples per second, once learned. */
  baselineRate(sensorId: string): number | undefined {
    const { baseline } = this.sensors.get(sensorId) ?? {};
    return baseline && baseline.samples >= BASELINE_MIN_SAMPLES && baseline.seconds >= HOLD_SECONDS && baseline.rate > 0 ? baseline.rate : undefined;
  }

  /** The sensor floods now: what it sends until the flood has left the held seconds is not learned. */
  freeze(sensorId: string, now: number): void {
    const known = this.sensors.get(sensorId);
    if (known) known.frozenUntil = Math.floor(now / 1000) + HOLD_SECONDS;
  }

  forget(sensorId: string): void {
    this.sensors.delete(sensorId);
  }
}

/** Moves the held seconds on to `second`: those that leave are learned (unless frozen), then the silent seconds of a longer gap. */
function advance(known: Learned, second: number): void {
  if (second <= known.second) return;
  const lastLeaving = second - HOLD_SECONDS;
  for (let leaving = known.second - HOLD_SECONDS + 1; leaving <= Math.min(lastLeaving, known.second); leaving++) {
    const slot = leaving % HOLD_SECONDS;
    learn(known, leaving, known.held[slot] ?? 0);
    known.held[slot] = 0;
  }
  const silent = Math.min(Math.max(0, lastLeaving - known.second), MAX_SILENT_SECONDS);
  for (let i = 1; i <= silent; i++) learn(known, known.second + i, 0);
  known.second = second;
}

function learn(known: Learned, leaving: number, count: number): void {
  if (leaving <= known.frozenUntil) return;
  const { baseline } = known;
  baseline.seconds++;
  baseline.samples += count;
  // A plain average of the seconds learned at first, exponentially weighted once there are enough.
  baseline.rate += (count - baseline.rate) * Math.max(1 - Math.exp(-1 / BASELINE_TAU_SECONDS), 1 / baseline.seconds);
}
