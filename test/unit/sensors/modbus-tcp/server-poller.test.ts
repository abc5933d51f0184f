// The Modbus TCP client against a scripted server on a loopback socket (the wire): a response
// that comes after its request timed out is dropped, not taken for the next one; a stream out
// of step (a foreign MBAP header) is counted and the connection is opened again.
import assert from 'node:assert/strict';
import { createServer, type Server, type Socket } from 'node:net';
import type { AddressInfo } from 'node:net';
import { describe, it } from 'node:test';
import { silentLogger } from '../../../../main/log/logger.js';
import { createMetricsRegistry } from '../../../../main/metrics/registry.js';
import { SensorActivity } from '../../../../main/sensors/activity.js';
import { modbusTcpMetrics } from '../../../../main/sensors/modbus-tcp/metrics.js';
import { ServerPoller } from '../../../../main/sensors/modbus-tcp/server-poller.js';
import { systemClock } from '../../../../main/shared/clock.js';
import { modbusTcpServersSchema } from '../../../../main/shared/config/modbus.js';
import type { Sample } from '../../../../main/shared/reading.js';
import { waitFor } from '../../../integration/serial/fixture.js';

type Reply = (request: Buffer, socket: Socket) => void;

/** Answers read-holding requests (one register) through `reply`; counts connections. */
async function scriptedServer(reply: Reply): Promise<{ server: Server; port: number; connections: () => number }> {
  let connections = 0;
  const server = createServer((socket) => {
    connections++;
    socket.on('data', (chunk) => reply(chunk, socket));
    socket.on('error', () => undefined);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return { server, port: (server.address() as AddressInfo).port, connections: () => connections };
}

/** The response ADU to `request` (one holding register) carrying `value`. */
function answer(request: Buffer, value: number): Buffer {
  const response = Buffer.from([0, 0, 0, 0, 0, 5, request[6] as number, 0x03, 0x02, 0, 0]);
  request.copy(response, 0, 0, 2);
  response.writeUInt16BE(value, 9);
  return response;
}

async function poller(port: number) {
  const registry = createMetricsRegistry({ processMetrics: false });
  const metrics = modbusTcpMetrics(registry);
  const samples: Sample[] = [];
  const [config] = modbusTcpServersSchema.parse([
    { id: 's', host: '127.0.0.1', port, intervalMs: 20, timeoutMs: 60, units: [{ unitId: 1, sensorId: 'm', registers: [{ quantity: 'v', address: 0 }] }] },
  ]);
  const instance = new ServerPoller({
    config: config as NonNullable<typeof config>,
    sink: { accept: async (sample) => void samples.push(sample) },
    activity: new SensorActivity({ source: 'modbus-tcp', clock: systemClock }),
    metrics,
    log: silentLogger,
    clock: systemClock,
    random: () => 0,
  });
  const value = async (metric: { get(): Promise<{ values: { labels: Record<string, unknown>; value: number }[] }> }, labels: Record<string, string>) =>
    (await metric.get()).values.find((v) => Object.entries(labels).every(([k, l]) => v.labels[k] === l))?.value ?? 0;
  return { instance, samples, metrics, value };
}

describe('Modbus TCP client on the wire', () => {
  it('drops a response that comes after its request timed out', async () => {
    let requests = 0;
    const { server, port } = await scriptedServer((request, socket) => {
      requests++;
      // The first request is answered late, with a value no later answer carries.
      if (requests === 1) setTimeout(() => socket.write(answer(request, 111)), 200);
      else socket.write(answer(request, 222));
    });
    const { instance, samples, metrics, value } = await poller(port);
    instance.start();
    await waitFor('requests after the late answer arrived', () => requests >= 10);
    await instance.stop();
    server.close();
    assert.ok((await value(metrics.requests, { result: 'timeout' })) >= 1);
    assert.ok(samples.length > 0);
    assert.deepEqual(new Set(samples.map((s) => s.values.v?.value)), new Set([222]), 'the late 111 was not taken for a later request');
  });

  it('counts a foreign MBAP header as bad-frame, reconnects and reads again', async () => {
    let requests = 0;
    const { server, port, connections } = await scriptedServer((request, socket) => {
      requests++;
      if (requests === 2) socket.write(Buffer.from('HTTP/1.1 400 Bad Request\r\n\r\n'));
      else socket.write(answer(request, 7));
    });
    const { instance, samples, metrics, value } = await poller(port);
    instance.start();
    await waitFor('a reading on a second connection', () => connections() >= 2 && requests >= 4 && samples.length >= 2);
    await instance.stop();
    server.close();
    assert.ok((await value(metrics.rejects, { reason: 'bad-frame' })) >= 1);
    assert.ok((await value(metrics.reconnects, { server: 's' })) >= 1);
    assert.equal(await value(metrics.connected, { server: 's' }), 0, 'stopped: disconnected');
  });
});
