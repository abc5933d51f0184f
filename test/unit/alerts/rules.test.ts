import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, it } from 'node:test';
import { AlertCenter } from '../../../main/alerts/alert-center.js';
import { AlertRules, type PortLineTotals } from '../../../main/alerts/rules.js';
import type { BufferStats } from '../../../main/buffer/types.js';
import { validateConfig } from '../../../main/config/validate.js';
import { silentLogger } from '../../../main/log/logger.js';
import { createMetricsRegistry } from '../../../main/metrics/registry.js';
import type { Config } from '../../../main/shared/config/schema.js';
import type { SensorStatus } from '../../../main/shared/source.js';
import { OtaLayout, OtaStateStore } from '../../../main/ota/state.js';

// The rules against a real alerts store, with the gateway's readings (buffer stats, sensor rates,
// login counter) given at the wire and a clock the test moves.
describe('AlertRules', () => {
  let dir: string;
  let now: number;
  let center: AlertCenter;
  let config: Config;
  let stats: BufferStats;
  let sensors: SensorStatus[];
  let loginFailures: number;
  let lines: PortLineTotals[];
  let notBefore: Date | undefined;
  let rules: AlertRules;
  const active = () => center.active().map((a) => a.key).sort();

  beforeEach(async () => {
    dir = mkdtempSync(join(tmpdir(), 'fieldgate-rules-'));
    now = Date.UTC(2026, 0, 1);
    config = validateConfig({ gateway: { id: 'gw-1', dataDir: dir }, buffer: { maxRows: 100 }, ota: { model: 'test-box' }, alerts: { disk: { minFreeBytes: 0 }, loginFailures: { count: 3, windowMs: 60_000 } } });
    stats = { depth: 0, bytes: 0, inFlight: 0, oldestUnsentAgeMs: null, drops: { capacity: 0, ttl: 0, 'io-error': 0, refused: 0 }, pendingDropRecords: 0 };
    sensors = [];
    loginFailures = 0;
    lines = [];
    notBefore = undefined;
    const clock = { now: () => now };
    const metrics = createMetricsRegistry({ processMetrics: false });
    center = new AlertCenter({ file: join(dir, 'alerts.db'), gatewayId: 'gw-1', keepRecent: () => 10, log: silentLogger, clock, metrics });
    await center.start();
    rules = new AlertRules({ alerts: center, config: () => config, sensors: () => sensors, buffer: () => stats, uplink: () => undefined, loginFailures: async () => loginFailures, serialLines: async () => lines, certificateNotBefore: () => notBefore, log: silentLogger, clock, metrics });
  });
  afterEach(async () => {
    await center.stop();
    rmSync(dir, { recursive: true, force: true });
  });

  it('buffer-filling at 80% of maxRows (critical at 100%), buffer-stale past oldestUnsentMs; both clear', async () => {
    stats = { ...stats, depth: 79 };
    await rules.check();
    assert.deepEqual(active(), []);
    stats = { ...stats, depth: 80, oldestUnsentAgeMs: 3_600_001 };
    await rules.check();
    assert.deepEqual(active(), ['buffer-filling:buffer', 'buffer-stale:buffer']);
    stats = { ...stats, depth: 100 };
    await rules.check();
    assert.equal(center.active().find((a) => a.kind === 'buffer-filling')?.severity, 'critical');
    stats = { ...stats, depth: 10, oldestUnsentAgeMs: 1_000 };
    await rules.check();
    assert.deepEqual(active(), []);
  });

  it('login-failures once count failures fall within the window; clears when they age out', async () => {
    loginFailures = 2;
    await rules.check();
    assert.deepEqual(active(), []);
    now += 1_000;
    loginFailures = 3;
    await rules.check();
    assert.deepEqual(active(), ['login-failures:api']);
    now += 60_000;
    await rules.check();
    assert.deepEqual(active(), []);
  });

  it('sensor-flooding when the rate is far above the learned one; the baseline does not follow the flood', async () => {
    for (let i = 0; i < 40; i++) {
      now += 1_000;
      rules.observe('t1');
    }
    sensors = [{ sensorId: 't1', source: 'sim', online: true, lastSeen: now, rate: 1 }];
    await rules.check();
    assert.deepEqual(active(), []);
    sensors = [{ ...sensors[0] as SensorStatus, rate: 50 }];
    await rules.check();
    assert.deepEqual(active(), ['sensor-flooding:t1']);
    for (let i = 0; i < 200; i++) {
      now += 20;
      rules.observe('t1');
    }
    await rules.check();
    assert.deepEqual(active(), ['sensor-flooding:t1'], 'still flooding: the baseline was frozen');
    sensors = [{ ...sensors[0] as SensorStatus, rate: 1 }];
    await rules.check();
    assert.deepEqual(active(), []);
  });

  it('trial-pending while the OTA journal is in its trial; the next install\'s trial right after is a new alert for the cloud', async () => {
    await rules.check();
    assert.deepEqual(active(), []);
    mkdirSync(join(dir, 'ota', 'state'), { recursive: true });
    const journal = join(dir, 'ota', 'state', 'install.json');
    const trialOf = (version: number) => JSON.stringify({ phase: 'trial', version, previous: version - 1, securityCounter: 1, issuedAt: now, trustedTime: now, deadline: now + 120_000 });
    writeFileSync(journal, trialOf(7));
    await rules.check();
    assert.deepEqual(active(), ['trial-pending:ota']);
    await rules.check();
    writeFileSync(journal, trialOf(8));
    await rules.check();
    const events = center.pending(10).map((entry) => JSON.parse(entry.payload) as { event: string; key: string; message: string });
    assert.deepEqual(
      events.map((e) => `${e.event} ${e.key} ${/version (\d+)/.exec(e.message)?.[1]}`),
      ['raise trial-pending:ota 7', 'clear trial-pending:ota 7', 'raise trial-pending:ota 8'],
    );
    rmSync(journal);
    await rules.check();
    assert.deepEqual(active(), []);
  });

  it('sensor-flooding for a serial port whose rejected share of the window\'s lines is above rejectShare; clears once good lines dominate the window', async () => {
    config = validateConfig({ ...config, sensors: { serial: [{ id: 'p1', path: '/dev/ttyUSB0', format: 'jsonl', sensorId: 'pty-1' }] } });
    // pty-1 itself is silent here (it sends no samples); this test looks at flooding only.
    const flooding = () => active().filter((key) => key.startsWith('sensor-flooding:'));
    lines = [{ port: 'p1', lines: 10, rejected: 9 }];
    await rules.check();
    assert.deepEqual(flooding(), [], 'fewer than minLines (20)');
    now += 5_000;
    lines = [{ port: 'p1', lines: 40, rejected: 21 }];
    await rules.check();
    assert.deepEqual(flooding(), ['sensor-flooding:serial:p1']);
    assert.match(center.active().find((a) => a.kind === 'sensor-flooding')?.message ?? '', /rejected 21 of its last 40 lines \(53%/);
    // Past the window (60 s) only the new lines count: 40 more, 2 of them rejected.
    now += 61_000;
    lines = [{ port: 'p1', lines: 60, rejected: 22 }];
    await rules.check();
    now += 5_000;
    lines = [{ port: 'p1', lines: 80, rejected: 23 }];
    await rules.check();
    assert.deepEqual(flooding(), []);
    // A port no longer configured is forgotten.
    lines = [{ port: 'gone', lines: 1_000, rejected: 1_000 }];
    await rules.check();
    assert.deepEqual(flooding(), []);
  });

  it('clock-wrong while the clock is before the certificate\'s notBefore; clears once the clock is right', async () => {
    notBefore = new Date(now + 86_400_000);
    await rules.check();
    assert.deepEqual(active(), ['clock-wrong:identity']);
    assert.equal(center.active()[0]?.severity, 'critical');
    now += 2 * 86_400_000;
    await rules.check();
    assert.deepEqual(active(), []);
  });

  it('rolled-back while the OTA state holds a rollback marker (warning after a failed trial, info after an operator\'s); a later good version clears it', async () => {
    const store = new OtaStateStore(new OtaLayout(join(dir, 'ota')));
    await store.writeRollback({ from: 8, to: 7, reason: 'mark-good-timeout', at: now });
    await rules.check();
    assert.deepEqual(active(), ['rolled-back:ota']);
    assert.equal(center.active()[0]?.severity, 'warning');
    assert.match(center.active()[0]?.message ?? '', /version 8 was rolled back .*mark-good-timeout.*version 7 runs again/);
    await store.writeRollback({ from: 8, to: 7, reason: 'operator', at: now });
    await rules.check();
    assert.equal(center.active()[0]?.severity, 'info');
    await store.commitGood({ phase: 'trial', version: 9, previous: 7, securityCounter: 1, issuedAt: 0, trustedTime: 0, deadline: now });
    await rules.check();
    assert.deepEqual(active(), []);
  });
});
