import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { silentLogger } from '../../../../main/log/logger.js';
import { createMetricsRegistry } from '../../../../main/metrics/registry.js';
import { SensorActivity } from '../../../../main/sensors/activity.js';
import { ModbusMaster, OFFLINE_AFTER_FAILED_POLLS, type Transaction } from '../../../../main/sensors/modbus/master.js';
import type { ReadRequest } from '../../../../main/sensors/modbus/pdu.js';
import { SampleForwarder } from '../../../../main/sensors/sample-forwarder.js';
import { serialMetrics } from '../../../../main/sensors/serial/metrics.js';
import { RejectLog } from '../../../../main/sensors/serial/rejects.js';
import { systemClock } from '../../../../main/shared/clock.js';
import { modbusRegistersSchema } from '../../../../main/shared/config/modbus.js';
import type { Sample } from '../../../../main/shared/reading.js';
import { waitFor } from '../../../integration/serial/fixture.js';

/** A master over a scripted wire: `answer` decides each transaction; every request is recorded. */
function rig(answer: (request: ReadRequest) => Transaction) {
  const registry = createMetricsRegistry({ processMetrics: false });
  const metrics = serialMetrics(registry);
  const samples: Sample[] = [];
  const requests: ReadRequest[] = [];
  const results: string[] = [];
  const activity = new SensorActivity({ source: 'test', clock: systemClock });
  const labels = { port: 'p' };
  const master = new ModbusMaster({
    devices: [
      {
        unit: 1,
        sensorId: 'm1',
        registers: modbusRegistersSchema.parse([
          { quantity: 'power', address: 0 },
          { quantity: 'running', table: 'coil', address: 0 },
        ]),
      },
    ],
    labels,
    intervalMs: 10,
    timeoutMs: 10,
    transact: async (request) => {
      requests.push(request);
      return answer(request);
    },
    connected: () => true,
    countRequest: (_unit, result) => results.push(result),
    rejects: new RejectLog({ labels, counter: metrics.rejects, log: silentLogger, clock: systemClock }),
    activity,
    forwarder: new SampleForwarder({ sink: { accept: async (sample) => void samples.push(sample) }, log: silentLogger, clock: systemClock, labels }),
    log: silentLogger,
    clock: systemClock,
  });
  const rejects = async (reason: string) => (await metrics.rejects.get()).values.find((v) => v.labels.reason === reason)?.value ?? 0;
  return { master, samples, requests, results, activity, rejects, online: () => activity.statuses()[0]?.online };
}

const registers = (request: ReadRequest): Transaction => ({ kind: 'data', data: Array.from({ length: request.count }, () => (request.fn === 0x01 ? 1 : 1500)) });

describe('Modbus master', () => {
  it('publishes one sample per complete cycle: registers and bits together', async () => {
    const { master, samples, requests } = rig(registers);
    master.start();
    await waitFor('two samples', () => samples.length >= 2);
    await master.stop();
    assert.deepEqual(samples[0]?.values, { power: { value: 1500, unit: '' }, running: { value: 1, unit: 'bool' } });
    assert.deepEqual(requests.slice(0, 2), [
      { unit: 1, fn: 0x03, address: 0, count: 1 },
      { unit: 1, fn: 0x01, address: 0, count: 1 },
    ]);
  });

  it('holds back a cycle in which one request failed, counts it, and goes offline after three', async () => {
    let coilFails = false;
    const { master, samples, results, rejects, online } = rig((request) => (coilFails && request.fn === 0x01 ? { kind: 'timeout' } : registers(request)));
    master.start();
    await waitFor('online', () => online() === true);
    coilFails = true;
    const before = samples.length;
    await waitFor('offline', () => online() === false);
    const afterOffline = samples.length;
    assert.ok(afterOffline <= before + 1, 'at most the cycle already under way when the coil began to fail');
    assert.ok((await rejects('partial-poll')) >= OFFLINE_AFTER_FAILED_POLLS);
    assert.ok((await rejects('timeout')) >= OFFLINE_AFTER_FAILED_POLLS);
    assert.ok(results.includes('timeout') && results.includes('ok'));
    coilFails = false;
    await waitFor('online again', () => online() === true);
    await master.stop();
    assert.ok(samples.slice(afterOffline).every((s) => s.values.running !== undefined), 'every published sample is complete');
    assert.equal(online(), false, 'stopped: offline');
  });

  it('publishes nothing and counts no partial poll for a cycle cut off by a lost link', async () => {
    const { master, samples, requests, rejects } = rig((request) => (request.fn === 0x01 ? { kind: 'lost' } : registers(request)));
    master.start();
    await waitFor('three cycles', () => requests.filter((r) => r.fn === 0x01).length >= 3);
    await master.stop();
    assert.deepEqual(samples, []);
    assert.equal(await rejects('partial-poll'), 0);
  });
});
