import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';
import { createPki, type Pki } from '../../helpers/pki.js';
import { startMosquitto, type Mosquitto } from '../../helpers/mosquitto.js';
import { cloudSubscriber, readingsOf, startRig, waitFor } from './fixture.js';

const values = (t: number) => ({ temperature: { value: t, unit: '°C' } });
const CLI = fileURLToPath(new URL('../../../main/cli.js', import.meta.url));

interface DropAlert {
  type: string;
  sensor: string;
  reason: string;
  count: number;
  firstSeq: number;
  lastSeq: number;
}

describe('uplink through outages, full buffers and TTL', () => {
  let pki: Pki;
  let broker: Mosquitto;
  let cloud: Awaited<ReturnType<typeof cloudSubscriber>>;

  before(async () => {
    pki = await createPki();
    broker = await startMosquitto({ pki });
    cloud = await cloudSubscriber(broker, pki);
  });

  after(async () => {
    await cloud?.close();
    await broker?.cleanup();
    await pki?.cleanup();
  });

  const dropAlerts = (gatewayId: string): DropAlert[] =>
    cloud.messages
      .filter((m) => m.topic === `fieldgate/${gatewayId}/alerts`)
      .map((m) => JSON.parse(m.text) as DropAlert)
      .filter((a) => a.type === 'readings-dropped');

  it('keeps readings through a broker outage and delivers all of them when it returns', async () => {
    const rig = await startRig({ broker, pki, client: await pki.issueClientCert({ cn: 'gw-out' }), gatewayId: 'gw-out', cloud: { inFlight: 4, batch: { maxReadings: 5 } } });
    try {
      for (let i = 0; i < 20; i++) await rig.buffer.append({ sensorId: 's', ts: 1_700_000_000_000 + i, values: values(i) });
      rig.uplink.wake();
      await waitFor(() => readingsOf(cloud.messages, 'fieldgate', 'gw-out').length >= 20 || undefined, 'the first 20 readings');
      await broker.stop();
      await waitFor(() => rig.uplink.status().state !== 'connected', 'the uplink to notice the outage');
      for (let i = 20; i < 300; i++) await rig.buffer.append({ sensorId: 's', ts: 1_700_000_000_000 + i, values: values(i) });
      rig.uplink.wake();
      assert.equal(rig.buffer.stats(Date.now()).depth, 280);
      // Keep the gateway out (a certificate the broker rejects) until the cloud subscriber is back,
      // since this test broker keeps no sessions across restarts.
      const good = rig.credentials.current;
      const stranger = await createPki();
      const foreign = await stranger.issueClientCert({ cn: 'gw-out' });
      await stranger.cleanup();
      rig.credentials.current = { ...good, cert: foreign.certPem, key: foreign.keyPem };
      await broker.start();
      await waitFor(() => cloud.client.connected || undefined, 'the cloud subscriber to reconnect');
      await cloud.client.subscribeAsync('fieldgate/#', { qos: 1 });
      rig.credentials.current = good;
      await rig.uplink.reconnect();
      await waitFor(() => rig.buffer.stats(Date.now()).depth === 0 || undefined, 'the backlog to drain', 60_000);
      await waitFor(() => new Set(readingsOf(cloud.messages, 'fieldgate', 'gw-out').map((r) => r.seq)).size >= 300 || undefined, 'all 300 seqs at the subscriber');
      const seqs = readingsOf(cloud.messages, 'fieldgate', 'gw-out').map((r) => r.seq);
      assert.deepEqual([...new Set(seqs)].sort((a, b) => a - b), Array.from({ length: 300 }, (_, i) => i + 1));
      assert.ok((rig.uplink.status().errors['connection-refused'] ?? 0) + (rig.uplink.status().errors['connection-lost'] ?? 0) > 0, 'the outage was counted');
    } finally {
      await rig.stop();
    }
  });

  it('drop-oldest on a full buffer: counters and a drop record at the cloud', async () => {
    const rig = await startRig({ broker, pki, client: await pki.issueClientCert({ cn: 'gw-full' }), gatewayId: 'gw-full', buffer: { maxRows: 10, fullPolicy: 'drop-oldest' }, start: false });
    try {
      for (let i = 0; i < 25; i++) await rig.buffer.accept({ sensorId: 'p', ts: 1_700_000_000_000 + i, values: values(i) });
      const stats = rig.buffer.stats(Date.now());
      assert.equal(stats.depth, 10);
      assert.equal(stats.drops.capacity, 15);
      await rig.uplink.start();
      await waitFor(() => readingsOf(cloud.messages, 'fieldgate', 'gw-full').length >= 10 || undefined, 'the ten kept readings');
      assert.deepEqual(readingsOf(cloud.messages, 'fieldgate', 'gw-full').map((r) => r.seq), Array.from({ length: 10 }, (_, i) => i + 16));
      await waitFor(() => dropAlerts('gw-full').reduce((n, a) => n + a.count, 0) >= 15 || undefined, 'drop records for 15 readings');
      const alerts = dropAlerts('gw-full');
      assert.ok(alerts.every((a) => a.reason === 'capacity' && a.sensor === 'p'));
      assert.equal(Math.min(...alerts.map((a) => a.firstSeq)), 1);
      assert.equal(Math.max(...alerts.map((a) => a.lastSeq)), 15);
      await waitFor(() => rig.buffer.stats(Date.now()).pendingDropRecords === 0 || undefined, 'drop records acked after PUBACK');
    } finally {
      await rig.stop();
    }
  });

  it('drop-newest on a full buffer keeps the oldest readings and reports the rest', async () => {
    const rig = await startRig({ broker, pki, client: await pki.issueClientCert({ cn: 'gw-new' }), gatewayId: 'gw-new', buffer: { maxRows: 10, fullPolicy: 'drop-newest' }, start: false });
    try {
      for (let i = 0; i < 25; i++) await rig.buffer.accept({ sensorId: 'p', ts: 1_700_000_000_000 + i, values: values(i) });
      assert.equal(rig.buffer.stats(Date.now()).drops.capacity, 15);
      await rig.uplink.start();
      await waitFor(() => readingsOf(cloud.messages, 'fieldgate', 'gw-new').length >= 10 || undefined, 'the ten kept readings');
      assert.deepEqual(readingsOf(cloud.messages, 'fieldgate', 'gw-new').map((r) => r.seq), Array.from({ length: 10 }, (_, i) => i + 1));
      await waitFor(() => dropAlerts('gw-new').reduce((n, a) => n + a.count, 0) >= 15 || undefined, 'drop records for 15 readings');
      assert.ok(dropAlerts('gw-new').every((a) => a.reason === 'capacity'));
    } finally {
      await rig.stop();
    }
  });

  it('TTL prune: expired readings are not sent, the cloud gets a ttl drop record', async () => {
    const rig = await startRig({ broker, pki, client: await pki.issueClientCert({ cn: 'gw-ttl' }), gatewayId: 'gw-ttl', buffer: { ttlHours: 1 }, start: false });
    try {
      for (let i = 0; i < 8; i++) await rig.buffer.append({ sensorId: 'old', ts: Date.now(), values: values(i) });
      // The TTL counts from when the buffer accepted a reading: prune as if two hours had passed.
      const later = Date.now() + 2 * 3_600_000;
      assert.equal(rig.buffer.prune(later), 8);
      assert.equal(rig.buffer.stats(later).drops.ttl, 8);
      for (let i = 0; i < 3; i++) await rig.buffer.append({ sensorId: 'old', ts: Date.now(), values: values(i) });
      await rig.uplink.start();
      await waitFor(() => dropAlerts('gw-ttl').reduce((n, a) => n + a.count, 0) >= 8 || undefined, 'the ttl drop record');
      assert.deepEqual(dropAlerts('gw-ttl').map((a) => [a.reason, a.firstSeq, a.lastSeq]), [['ttl', 1, 8]]);
      await waitFor(() => readingsOf(cloud.messages, 'fieldgate', 'gw-ttl').length >= 3 || undefined, 'the three fresh readings');
      assert.deepEqual(readingsOf(cloud.messages, 'fieldgate', 'gw-ttl').map((r) => r.seq), [9, 10, 11]);
    } finally {
      await rig.stop();
    }
  });

  it('a plaintext mqtt:// URL is refused at config check', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'fieldgate-cfg-'));
    try {
      const file = join(dir, 'fieldgate.yaml');
      await writeFile(file, ['gateway:', '  id: gw-1', `  dataDir: ${dir}`, 'cloud:', '  url: mqtt://broker.example.com:1883', ''].join('\n'));
      const refused = spawnSync(process.execPath, [CLI, 'config', 'check', file], { encoding: 'utf8' });
      assert.notEqual(refused.status, 0);
      assert.match(refused.stderr, /"cloud\.url": plaintext MQTT is refused: use mqtts:\/\/ .*or set cloud\.allowInsecure: true/);
      await writeFile(file, ['gateway:', '  id: gw-1', `  dataDir: ${dir}`, 'cloud:', '  url: mqtt://broker.example.com:1883', '  allowInsecure: true', ''].join('\n'));
      const allowed = spawnSync(process.execPath, [CLI, 'config', 'check', file], { encoding: 'utf8' });
      assert.equal(allowed.status, 0, allowed.stderr);
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });
});
