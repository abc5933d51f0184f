import type { Logger } from '../../log/logger.js';
import type { Clock } from '../../shared/clock.js';
import type { SimSensorConfig } from '../../shared/config/sim.js';
import type { SampleSink, SensorStatus, Source } from '../../shared/source.js';
import { SensorActivity } from '../activity.js';
import { SimulatedWeather } from './weather.js';

const MIN_TICK_MS = 10;

export interface SimSourceDeps {
  sensors: SimSensorConfig[];
  sink: SampleSink;
  log: Logger;
  clock: Clock;
}

/** Simulated sensors for the demo and benchmarks. High rates are emitted in bursts per tick. */
export class SimSource implements Source {
  readonly name = 'sim';
  private readonly activity: SensorActivity;
  private timer: NodeJS.Timeout | undefined;
  private lastTick = 0;
  private readonly owed = new Map<string, number>();

  constructor(private readonly deps: SimSourceDeps) {
    this.activity = new SensorActivity({ source: this.name, clock: deps.clock });
  }

  async start(): Promise<void> {
    const weather = new Map(this.deps.sensors.map((s) => [s.id, new SimulatedWeather(s.quantities)]));
    for (const sensor of this.deps.sensors) this.activity.register(sensor.id);
    const fastest = Math.max(...this.deps.sensors.map((s) => s.rate), 1);
    const tickMs = Math.max(MIN_TICK_MS, 1000 / fastest);
    this.lastTick = this.deps.clock.now();
    this.timer = setInterval(() => this.tick(weather), tickMs);
    this.deps.log.info({ sensors: this.deps.sensors.map((s) => s.id), tickMs }, 'simulated sensors running');
  }

  async stop(): Promise<void> {
    clearInterval(this.timer);
    this.timer = undefined;
  }

  sensors(): SensorStatus[] {
    return this.activity.statuses();
  }

  private tick(weather: Map<string, SimulatedWeather>): void {
    const now = this.deps.clock.now();
    const elapsedMs = now - this.lastTick;
    this.lastTick = now;
    for (const sensor of this.deps.sensors) {
      const due = (this.owed.get(sensor.id) ?? 0) + (sensor.rate * elapsedMs) / 1000;
      const count = Math.floor(due);
      this.owed.set(sensor.id, due - count);
      const generator = weather.get(sensor.id) as SimulatedWeather;
      for (let i = 0; i < count; i++) {
        this.deps.sink.accept({ sensorId: sensor.id, ts: now, values: generator.sample(now) }).catch((error: unknown) => {
          this.deps.log.error({ sensor: sensor.id, err: error }, 'buffer refused a simulated sample');
        });
      }
      if (count > 0) this.activity.seen(sensor.id, {}, count);
    }
  }
}
