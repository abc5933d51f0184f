import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createMetricsRegistry } from '../../../main/metrics/registry.js';
import { SensorMetrics, type SensorValues } from '../../../main/metrics/sensor-metrics.js';

function rig() {
  const clock = { t: Date.UTC(2026, 0, 1), now() { return this.t; } };
  const registry = createMetricsRegistry({ processMetrics: false });
  const metrics = new SensorMetrics({ registry, sources: () => [], clock, changeIntervalMs: 1000 });
  return { clock, registry, metrics };
}

test('the latest value per quantity per sensor, with unit and time; a quantity left out keeps its last value', async () => {
  const { metrics, registry } = rig();
  metrics.observe({ sensorId: 't1', ts: 1000, values: { temperature: { value: 20, unit: '°C' }, humidity: { value: 40, unit: '%' } } });
  metrics.observe({ sensorId: 't1', ts: 2000, values: { temperature: { value: 21.5, unit: '°C' } } });
  metrics.observe({ sensorId: 'a0', ts: 1500, values: { pressure: { value: 1013, unit: 'hPa' } } });
  assert.deepEqual(metrics.values(), [
    { sensorId: 'a0', values: { pressure: { value: 1013, unit: 'hPa', ts: 1500 } } },
    { sensorId: 't1', values: { temperature: { value: 21.5, unit: '°C', ts: 2000 }, humidity: { value: 40, unit: '%', ts: 1000 } } },
  ]);
  assert.deepEqual(metrics.values('nobody'), []);
  assert.match(await registry.metrics(), /^fieldgate_sensor_value\{sensor="t1",quantity="humidity",unit="%"\} 40$/m);
  metrics.forget('t1');
  assert.deepEqual(metrics.values().map((v) => v.sensorId), ['a0']);
  assert.doesNotMatch(await registry.metrics(), /sensor="t1"/);
});

test('change notifications: at once, then at most one per sensor per interval carrying the latest values', (t) => {
  t.mock.timers.enable({ apis: ['setTimeout'] });
  const { metrics, clock } = rig();
  const seen: SensorValues[] = [];
  const end = metrics.onChange((values) => seen.push(values));
  const sample = (sensorId: string, value: number) => metrics.observe({ sensorId, ts: clock.t, values: { temperature: { value, unit: '°C' } } });
  sample('t1', 1);
  sample('t1', 2);
  sample('t2', 9);
  sample('t1', 3);
  assert.deepEqual(seen.map((v) => [v.sensorId, v.values.temperature?.value]), [['t1', 1], ['t2', 9]]);
  clock.t += 1000;
  t.mock.timers.tick(1000);
  assert.deepEqual(seen.map((v) => [v.sensorId, v.values.temperature?.value]), [['t1', 1], ['t2', 9], ['t1', 3]]);
  clock.t += 5000;
  sample('t1', 4);
  assert.equal(seen.at(-1)?.values.temperature?.value, 4, 'after a quiet interval the next change goes out at once');
  end();
  clock.t += 5000;
  sample('t1', 5);
  t.mock.timers.tick(5000);
  assert.equal(seen.length, 4);
});
