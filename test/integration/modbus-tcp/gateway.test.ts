// End to end: a real gateway (SQLite buffer, API server, uplink) polls a pymodbus TCP server and
// the readings arrive at Mosquitto with mutual TLS; /api/status lists the Modbus TCP sensors; a
// change to sensors.modbusTcp restarts that server's part alone.
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { STATUS_TOKEN_FILE } from '../../../main/api/auth.js';
import { apiDataDir } from '../../../main/config/location.js';
import { validateConfig } from '../../../main/config/validate.js';
import { silentLogger } from '../../../main/log/logger.js';
import { createMetricsRegistry } from '../../../main/metrics/registry.js';
import { buildGateway, type Gateway } from '../../../main/service/gateway.js';
import type { SensorStatusView } from '../../../main/shared/api.js';
import { systemClock } from '../../../main/shared/clock.js';
import { ModbusPeer } from '../../helpers/modbus-peer.js';
import { startMosquitto, type Mosquitto } from '../../helpers/mosquitto.js';
import { freePort } from '../../helpers/net.js';
import { createPki, type Pki } from '../../helpers/pki.js';
import { cloudSubscriber, readingsOf, waitFor } from '../uplink/fixture.js';

const GATEWAY_ID = 'gw-modbus';

describe('Modbus TCP readings through a real gateway to Mosquitto with mutual TLS', () => {
  let pki: Pki;
  let broker: Mosquitto;
  let subscriber: Awaited<ReturnType<typeof cloudSubscriber>>;
  let peer: ModbusPeer;
  let dir: string;
  let gateway: Gateway;
  let raw: { sensors: { sim: unknown[]; modbusTcp: Array<Record<string, unknown>> } } & Record<string, unknown>;

  const readings = (sensor: string) => readingsOf(subscriber.messages, broker.prefix, GATEWAY_ID).filter((r) => r.sensor === sensor);
  const names = () => gateway.supervisor.report().map((c) => c.name);

  before(async () => {
    pki = await createPki();
    broker = await startMosquitto({ pki });
    subscriber = await cloudSubscriber(broker, pki);
    const client = await pki.issueClientCert({ cn: GATEWAY_ID });
    const port = await freePort();
    peer = new ModbusPeer('tcp', port);
    await peer.start({ 1: { holding: [1234], coils: [1] } });
    dir = mkdtempSync(join(tmpdir(), 'fieldgate-modbus-tcp-'));
    raw = {
      gateway: { id: GATEWAY_ID, dataDir: dir },
      cloud: { url: broker.url, caFile: pki.ca.certPath, certFile: client.certPath, keyFile: client.keyPath, topicPrefix: broker.prefix },
      sensors: {
        sim: [{ id: 'sim-1', rate: 5, quantities: ['temperature'] }],
        modbusTcp: [
          {
            id: 'plc',
            host: '127.0.0.1',
            port,
            intervalMs: 200,
            units: [{ unitId: 1, sensorId: 'pump-1', registers: [{ quantity: 'speed', unit: 'rpm', address: 0 }, { quantity: 'running', table: 'coil', address: 0 }] }],
          },
        ],
      },
      ui: { port: 0 },
    };
    gateway = buildGateway({ config: validateConfig(structuredClone(raw)), log: silentLogger, clock: systemClock, metrics: createMetricsRegistry({ processMetrics: false }) });
    await gateway.supervisor.start();
  });

  after(async () => {
    await gateway?.supervisor.stop();
    await subscriber?.close();
    await peer?.stop();
    await broker?.cleanup();
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  it('delivers the Modbus readings, with the coil as 1 and unit bool, to the cloud', async () => {
    const delivered = await waitFor(() => readings('pump-1').length >= 2 && readings('pump-1'), 'two pump-1 readings at the broker');
    assert.equal(delivered[0]?.topic, `${broker.prefix}/${GATEWAY_ID}/readings/pump-1`);
    assert.deepEqual(delivered[0]?.values, { speed: { value: 1234, unit: 'rpm' }, running: { value: 1, unit: 'bool' } });
    assert.ok(names().includes('modbusTcp:plc'), names().join(', '));
  });

  it('lists the Modbus TCP sensor in /api/status with its server', async () => {
    const token = readFileSync(join(apiDataDir(dir), STATUS_TOKEN_FILE), 'utf8').trim();
    const response = await fetch(`${gateway.apiServer?.url}/api/status`, { headers: { authorization: `Bearer ${token}` } });
    assert.equal(response.status, 200);
    const sensors = ((await response.json()) as { sensors: SensorStatusView[] }).sensors;
    const pump = sensors.find((s) => s.sensorId === 'pump-1');
    assert.equal(pump?.source, 'modbus-tcp');
    assert.equal(pump?.server, 'plc');
    assert.equal(pump?.online, true);
  });

  it('a change to the server entry restarts that part alone, and its readings continue in seq', async () => {
    (raw.sensors.modbusTcp[0] as Record<string, unknown>).intervalMs = 100;
    const outcome = await gateway.apply(validateConfig(structuredClone(raw)));
    assert.deepEqual(outcome, { restarted: ['modbusTcp:plc'], needsRestart: [] });
    const count = readings('pump-1').length;
    await waitFor(() => readings('pump-1').length >= count + 2 || undefined, 'pump-1 readings after the restart');
    const seqs = [...new Set(readings('pump-1').map((r) => r.seq))].sort((a, b) => a - b);
    assert.deepEqual(seqs, seqs.map((_, i) => i + 1), 'no seq lost or repeated across the part restart');
  });
});
