/** Weight of a new gap in the learned interval. */
const LEARN = 0.2;
/** The baseline rate moves slowly, so that a flood stands out against it. */
const BASELINE_LEARN = 0.02;
/** Samples before a sensor's interval counts as learned. */
const MIN_SAMPLES = 3;

interface Learned {
  lastAt: number;
  samples: number;
  intervalMs: number;
  baselineIntervalMs: number;
}

/** How often each sensor reports, learned from accepted samples (for the silent and flooding rules). */
export class SensorIntervals {
  private readonly sensors = new Map<string, Learned>();
  /** Sensors whose baseline is frozen while they flood. */
  readonly frozen = new Set<string>();

  observe(sensorId: string, at: number): void {
    const known = this.sensors.get(sensorId);
    if (!known) {
      this.sensors.set(sensorId, { lastAt: at, samples: 1, intervalMs: 0, baselineIntervalMs: 0 });
      return;
    }
    const gap = Math.max(at - known.lastAt, 0);
    known.intervalMs = known.samples === 1 ? gap : known.intervalMs * (1 - LEARN) + gap * LEARN;
    if (!this.frozen.has(sensorId)) known.baselineIntervalMs = known.samples === 1 ? gap : known.baselineIntervalMs * (1 - BASELINE_LEARN) + gap * BASELINE_LEARN;
    known.lastAt = at;
    known.samples++;
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
    const known = this.sensors.get(sensorId);
    return known && known.samples >= MIN_SAMPLES * 10 && known.baselineIntervalMs > 0 ? 1000 / known.baselineIntervalMs : undefined;
  }

  forget(sensorId: string): void {
    this.sensors.delete(sensorId);
    this.frozen.delete(sensorId);
  }
}
