import type { Values } from '../../shared/reading.js';

export type SimQuantity = 'temperature' | 'humidity' | 'pressure';

const DAY_MS = 86_400_000;

/**
 * Plausible indoor/outdoor weather: a daily cycle plus a bounded random walk, so dashboards and
 * compression behave as they would with real sensors. `random` is injectable for tests.
 */
export class SimulatedWeather {
  private drift = 0;

  constructor(
    private readonly quantities: readonly SimQuantity[],
    private readonly random: () => number = Math.random,
  ) {}

  sample(ts: number): Values {
    this.drift = Math.max(-3, Math.min(3, this.drift + (this.random() - 0.5) * 0.1));
    const daily = Math.sin(((ts % DAY_MS) / DAY_MS) * 2 * Math.PI - Math.PI / 2);
    const temperature = 21 + 4 * daily + this.drift;
    const values: Values = {};
    for (const quantity of this.quantities) {
      if (quantity === 'temperature') values.temperature = { value: round(temperature, 2), unit: '°C' };
      if (quantity === 'humidity') values.humidity = { value: round(clamp(55 - 2.5 * (temperature - 21), 5, 95), 2), unit: '%' };
      if (quantity === 'pressure') values.pressure = { value: round(1013.25 + 4 * this.drift, 2), unit: 'hPa' };
    }
    return values;
  }
}

function round(value: number, digits: number): number {
  const factor = 10 ** digits;
  return Math.round(value * factor) / factor;
}

function clamp(value: number, low: number, high: number): number {
  return Math.min(high, Math.max(low, value));
}
