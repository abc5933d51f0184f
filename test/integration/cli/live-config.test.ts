// A real `fieldgate run` (SQLite buffer, mutual-TLS uplink to a real Mosquitto, API on loopback)
// follows its config file: sensors added through the API and by hand (SIGHUP) start producing
// readings at the broker, a cloud change restarts only the uplink, the YAML keeps its comments,
// a stale version is refused, and the sensor that was there all along never skips a seq.
import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import type { SerialPort } from 'serialport';
import { apiDataDir } from '../../../main/config/location.js';
import { readSetupCode } from '../../../main/api/setup-code.js';
import { CliProcess } from '../../helpers/cli.js';
import { startMosquitto, type Mosquitto } from '../../helpers/mosquitto.js';
import { freePort } from '../../helpers/net.js';
import { createPki, type Pki } from '../../helpers/pki.js';
import { SocatPair } from '../../helpers/socat.js';
import { ADMIN_PASSWORD, BrowserClient, type Answer } from '../api/fixture.js';
import { closePort, openDeviceEnd, send } from '../serial/fixture.js';
import { cloudSubscriber, waitFor } from '../uplink/fixture.js';

const GATEWAY = 'gw-live';

interface WireReading {
  sensor: string;
  seq: number;
}

describe('live config on a running gateway', () => {
  let pki: Pki;
  let broker: Mosquitto;
  let cloud: Awaited<ReturnType<typeof cloudSubscriber>>;
  let dir: string;
  let file: string;
  let gateway: CliProcess;
  let admin: BrowserClient;
  const pair = new SocatPair();
  let device: SerialPort | undefined;
  /** s1's highest seq at the broker once every config change of this suite was applied. */
  let s1AfterChanges = Number.POSITIVE_INFINITY;

  const readings = (): WireReading[] =>
    cloud.messages
      .filter((m) => m.topic.startsWith(`fieldgate/${GATEWAY}/readings/`))
      .flatMap((m) => (JSON.parse(m.text) as { readings: WireReading[] }).readings);
  const seqsOf = (sensor: string) => readings().filter((r) => r.sensor === sensor).map((r) => r.seq);
  const arrives = (sensor: string, atLeast = 1, afterSeq = 0) =>
    waitFor(() => seqsOf(sensor).filter((seq) => seq > afterSeq).length >= atLeast || undefined, `readings of ${sensor} at the broker`);
  const configApplied = () => gateway.records().filter((r) => r.msg === 'config applied');
  const version = async () => ((await admin.call('config')).body as { version: string }).version;
  const ok = (answer: Answer) => {
    assert.equal(answer.status, 200, JSON.stringify(answer.body));
    return answer.body as { version: string };
  };

  before(async () => {
    pki = await createPki();
    broker = await startMosquitto({ pki });
    cloud = await cloudSubscriber(broker, pki);
    await pair.start();
    dir = mkdtempSync(join(tmpdir(), 'fieldgate-live-'));
    const cert = await pki.issueClientCert({ cn: GATEWAY });
    const uiPort = await freePort();
    file = join(dir, 'fieldgate.yaml');
    writeFileSync(
      file,
      [
        '# fieldgate for the live-config test: this comment must survive every edit',
        'gateway:',
        `  id: ${GATEWAY} # the certificate CN`,
        `  dataDir: ${join(dir, 'data')}`,
        'cloud:',
        `  url: ${broker.url}`,
        `  caFile: ${pki.ca.certPath}`,
        `  certFile: ${cert.certPath}`,
        `  keyFile: ${cert.keyPath}`,
        '  backoff: { initialMs: 100, maxMs: 500, stableMs: 5000 }',
        '  statusIntervalMs: 500',
        'sensors:',
        '  # s1 runs from start to end and must never skip a seq',
        '  sim:',
        '    - { id: s1, rate: 20 }',
        'ui:',
        `  port: ${uiPort} # loopback only`,
        '',
      ].join('\n'),
      { mode: 0o600 },
    );
    gateway = new CliProcess(['run', '--config', file]);
    await gateway.waitForLine('"msg":"gateway running"');
    admin = new BrowserClient(`http://127.0.0.1:${uiPort}`);
    await admin.open();
    const code = readSetupCode(apiDataDir(join(dir, 'data')), Date.now())?.code;
    assert.ok(code, 'the gateway issued a setup code');
    ok(await admin.call('completeSetup', { code, password: ADMIN_PASSWORD }));
    await arrives('s1');
  });

  after(async () => {
    await closePort(device);
    if (gateway && gateway.child.exitCode === null) {
      gateway.child.kill('SIGTERM');
      await gateway.exit();
    }
    await pair.dispose();
    await cloud?.close();
    await broker?.cleanup();
    await pki?.cleanup();
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  it('a hand edit followed by SIGHUP starts the new sensor and leaves the others running', async () => {
    const before = configApplied().length;
    const text = readFileSync(file, 'utf8');
    writeFileSync(file, text.replace('    - { id: s1, rate: 20 }\n', '    - { id: s1, rate: 20 }\n    - { id: s3, rate: 10 } # added by hand\n'));
    gateway.child.kill('SIGHUP');
    await arrives('s3');
    // The log line may reach stdout after the first readings reach the broker.
    await waitFor(() => configApplied().length > before || undefined, 'the reload to be logged');
    assert.deepEqual(configApplied().slice(before).map((r) => r.restarted), [['sim:s3']]);
  });

  it('a sim and a serial sensor added through the API produce readings at the broker; the YAML keeps its comments', async () => {
    const afterSim = ok(await admin.call('addSensor', { sensor: { kind: 'sim', entry: { id: 's2', rate: 10, quantities: ['temperature'] } }, version: await version() }));
    await arrives('s2');
    ok(
      await admin.call('addSensor', {
        sensor: { kind: 'serial', entry: { id: 'bench-port', path: pair.a, format: 'jsonl', sensorId: 'x1' } },
        version: afterSim.version,
      }),
    );
    device = await openDeviceEnd(pair.b);
    const port = device;
    // Lines written before the gateway opened its end are lost: keep sending until x1 shows up.
    const deadline = Date.now() + 30_000;
    for (let i = 0; Date.now() < deadline && seqsOf('x1').length === 0; i++) {
      await send(port, `{"temperature":${20 + i / 10}}\n`);
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
    assert.ok(seqsOf('x1').length > 0, 'x1 readings reached the broker');
    const yaml = readFileSync(file, 'utf8');
    for (const comment of ['# fieldgate for the live-config test', '# the certificate CN', '# s1 runs from start to end', '# added by hand', '# loopback only']) {
      assert.ok(yaml.includes(comment), `"${comment}" is gone:\n${yaml}`);
    }
    assert.ok(existsSync(`${file}.bak`), 'the previous file is kept as .bak');
    assert.match(yaml, /id: s2/);
    assert.match(yaml, /id: bench-port/);
  });

  it('a write with a stale version is refused with 409 and the current version', async () => {
    const stale = await version();
    ok(await admin.call('updateConfig', { patch: { sensors: { sim: [{ id: 's1', rate: 20 }, { id: 's3', rate: 10 }, { id: 's2', rate: 12 }] } }, version: stale }));
    const current = await version();
    const refused = await admin.call('updateConfig', { patch: { ui: { port: 1 } }, version: stale });
    assert.equal(refused.status, 409, JSON.stringify(refused.body));
    assert.equal((refused.body as { currentVersion?: string }).currentVersion, current);
    assert.doesNotMatch(readFileSync(file, 'utf8'), /port: 1\b/);
  });

  it('an invalid edit names the key as config check does and changes nothing', async () => {
    const answer = await admin.call('updateConfig', { patch: { sensors: { sim: [{ id: 's1', rate: -5 }] } }, version: await version() });
    assert.equal(answer.status, 400, JSON.stringify(answer.body));
    assert.equal((answer.body as { field?: string }).field, 'sensors.sim.0.rate');
  });

  it('a changed cloud section restarts only the uplink, and delivery goes on', async () => {
    const before = configApplied().length;
    const s1Before = Math.max(...seqsOf('s1'));
    ok(await admin.call('updateConfig', { patch: { cloud: { statusIntervalMs: 400 } }, version: await version() }));
    await waitFor(() => configApplied().length > before || undefined, 'the config to be applied');
    assert.deepEqual(configApplied().slice(before).map((r) => r.restarted), [['uplink']]);
    await arrives('s1', 10, s1Before);
    s1AfterChanges = Math.max(...seqsOf('s1'));
  });

  it('the live views and the setup services answer through the same API', async () => {
    const values = ok(await admin.call('values', { sensor: 's2' })) as unknown as { sensors: { sensorId: string; values: { quantity: string; unit?: string }[] }[] };
    assert.deepEqual(values.sensors.map((s) => s.sensorId), ['s2']);
    assert.ok(values.sensors[0]?.values.some((v) => v.quantity === 'temperature' && v.unit === '°C'), JSON.stringify(values));
    const history = ok(await admin.call('history', { windowSeconds: 600 })) as unknown as { stepSeconds: number; points: unknown[] };
    assert.equal(history.stepSeconds, 10);
    const logs = ok(await admin.call('logs', { namespace: 'service', text: 'config applied' })) as unknown as { entries: { message: string; fields: { restarted?: string[] } }[] };
    assert.ok(logs.entries.some((e) => e.fields.restarted?.includes('uplink')), JSON.stringify(logs.entries));
    ok(await admin.call('serialPorts'));
    ok(await admin.call('identity'));
    assert.equal((await admin.call('otaStatus')).status, 503, 'no ota section: OTA is unavailable');
  });

  it('a ui change over the API answers first, then replaces only the API server; the session survives', async () => {
    const before = configApplied().length;
    const newPort = await freePort();
    ok(await admin.call('updateConfig', { patch: { ui: { port: newPort } }, version: await version() }));
    await waitFor(() => configApplied().length > before || undefined, 'the config to be applied');
    assert.deepEqual(configApplied().slice(before).map((r) => r.restarted), [['api']]);
    const moved = new BrowserClient(`http://127.0.0.1:${newPort}`);
    for (const [name, value] of admin.cookies) moved.cookies.set(name, value);
    admin = moved;
    await waitFor(() => gateway.records().some((r) => r.msg === 'setup UI and API listening' && String(r.url).endsWith(`:${newPort}`)) || undefined, 'the API on its new port');
    ok(await admin.call('config'));
    assert.ok(!gateway.records().some((r) => r.msg === 'component did not stop in time'), 'the old server closed at once');
  });

  it('the sensor that ran throughout has no gap in its seqs', async () => {
    // Stop producing s1 (a live removal); once what it accepted is delivered, every seq must be there.
    ok(await admin.call('removeSensor', { ref: { kind: 'sim', id: 's1' }, version: await version() }));
    const missing = () => {
      const seqs = new Set(seqsOf('s1'));
      return Array.from({ length: Math.max(...seqs) }, (_, i) => i + 1).filter((seq) => !seqs.has(seq));
    };
    await waitFor(() => missing().length === 0 || undefined, `s1's seqs without gaps (missing: ${missing().slice(0, 20).join(', ')})`, 30_000).catch(() => undefined);
    assert.deepEqual(missing(), []);
    assert.equal(Math.min(...seqsOf('s1')), 1);
    assert.ok(Math.max(...seqsOf('s1')) >= s1AfterChanges, 's1 ran through every config change of the suite');
  });
});
