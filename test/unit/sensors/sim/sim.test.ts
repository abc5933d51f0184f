import { test } from 'node:test';
import assert from 'node:assert/strict';
import { silentLogger } from '../../../../main/log/logger.js';
import { SimSource } from '../../../../main/sensors/sim/sim-source.js';
import { SimulatedWeather } from '../../../../main/sensors/sim/weather.js';
import type { Sample } from '../../../../main/shared/reading.js';

test('simulated weather stays plausible over a simulated week', () => {
  const weather = new SimulatedWeather(['temperature', 'humidity', 'pressure']);
  const start = Date.UTC(2026, 0, 1);
  for (let minute = 0; minute < 7 * 24 * 60; minute++) {
    const values = weather.sample(start + minute * 60_000);
    const temperature = values.temperature?.value ?? NaN;
    const humidity = values.humidity?.value ?? NaN;
    assert.ok(temperature >= 14 && temperature <= 28, `temperature ${temperature}`);
    assert.ok(humidity >= 5 && humidity <= 95, `humidity ${humidity}`);
    assert.equal(values.temperature?.unit, '°C');
    assert.equal(values.humidity?.unit, '%');
    assert.equal(values.pressure?.unit, 'hPa');
  }
});

test('only the configured quantities are produced', () => {
  assert.deepEqual(Object.keys(new SimulatedWeather(['humidity']).sample(0)), ['humidity']);
});

test('the sim source produces samples at the configured rate per sensor', async (t) => {
  t.mock.timers.enable({ apis: ['setInterval'] });
  let now = 1_000_000;
  const samples: Sample[] = [];
  const source = new SimSource({
    sensors: [
      { id: 'fast', rate: 50, quantities: ['temperature'] },
      { id: 'slow', rate: 2, quantities: ['temperature', 'humidity'] },
    ],
    sink: { accept: async (sample) => void samples.push(sample) },
    log: silentLogger,
    clock: { now: () => now },
  });
  await source.start();
  for (let tick = 0; tick < 500; tick++) {
    now += 20;
    t.mock.timers.tick(20);
  }
  await source.stop();
  const count = (id: string) => samples.filter((s) => s.sensorId === id).length;
  assert.equal(count('fast'), 500);
  assert.equal(count('slow'), 20);
  assert.ok(samples.every((s) => s.ts > 1_000_000 && s.ts <= now));
  const status = source.sensors().find((s) => s.sensorId === 'slow');
  assert.equal(status?.online, true);
  assert.equal(status?.lastSeen, now);
});

test('a sim sensor faster than its tick reports its rate in samples, not in ticks', async (t) => {
  t.mock.timers.enable({ apis: ['setInterval'] });
  let now = 1_000_000;
  // 1000 per second with 10 ms ticks: bursts of 10.
  const source = new SimSource({ sensors: [{ id: 'burst', rate: 1000, quantities: ['temperature'] }], sink: { accept: async () => undefined }, log: silentLogger, clock: { now: () => now } });
  await source.start();
  for (let tick = 0; tick < 1000; tick++) {
    now += 10;
    t.mock.timers.tick(10);
  }
  await source.stop();
  assert.equal(source.sensors().find((s) => s.sensorId === 'burst')?.rate, 1000);
});
