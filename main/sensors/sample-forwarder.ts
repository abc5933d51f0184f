import type { Logger } from '../log/logger.js';
import type { Clock } from '../shared/clock.js';
import type { Sample } from '../shared/reading.js';
import type { SampleSink } from '../shared/source.js';

const SINK_ERROR_LOG_INTERVAL_MS = 10_000;

/** Hands samples to the sink; a refusal is logged (at most once per interval), never thrown. */
export class SampleForwarder {
  private lastErrorLog = -Infinity;

  /** `labels` say where the samples come from (`{ port }`, `{ server }`) in the log line. */
  constructor(private readonly deps: { sink: SampleSink; log: Logger; clock: Clock; labels: Record<string, string> }) {}

  forward(sample: Sample): void {
    this.deps.sink.accept(sample).catch((error: unknown) => {
      const now = this.deps.clock.now();
      if (now - this.lastErrorLog < SINK_ERROR_LOG_INTERVAL_MS) return;
      this.lastErrorLog = now;
      this.deps.log.error({ ...this.deps.labels, sensor: sample.sensorId, err: error }, 'buffer refused a sample');
    });
  }
}
