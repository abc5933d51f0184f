import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import type { IdentityAlert } from '../../../main/identity/alerts.js';
import { ExpiryMonitor } from '../../../main/identity/expiry-monitor.js';
import { identityStoreFromConfig } from '../../../main/identity/from-config.js';
import { silentLogger } from '../../../main/log/logger.js';
import { createMetricsRegistry, type Registry } from '../../../main/metrics/registry.js';
import { createPki, daysFromNow, type Pki } from '../../helpers/pki.js';
import { GATEWAY_ID, installIdentity, workspace } from './fixture.js';

const DAY = 86_400_000;
let pki: Pki;

before(async () => {
  pki = await createPki();
});

after(async () => {
  await pki.cleanup();
});

async function daysLeftGauge(metrics: Registry): Promise<number | undefined> {
  const metric = (await metrics.getMetricsAsJSON()).find((m) => m.name === 'fieldgate_identity_cert_days_left');
  return metric?.values[0]?.value;
}

/** A monitor with thresholds 30 and 7 days on the workspace's identity, its gauge registry and the alerts it raised. */
function monitorOf(config: Parameters<typeof identityStoreFromConfig>[0], now: () => number) {
  const metrics = createMetricsRegistry({ processMetrics: false });
  const alerts: IdentityAlert[] = [];
  const monitor = new ExpiryMonitor({
    store: identityStoreFromConfig(config),
    alertDaysLeft: [30, 7],
    checkIntervalMs: 3_600_000,
    metrics,
    log: silentLogger,
    clock: { now },
    onAlert: (alert) => alerts.push(alert),
  });
  return { monitor, metrics, alerts };
}

test('the days-left gauge follows the clock and alerts fire once at 30 days (warning) and 7 days (critical)', async () => {
  const ws = workspace({ caFile: pki.ca.certPath });
  const notAfter = daysFromNow(40);
  const client = await pki.issueClientCert({ cn: GATEWAY_ID, notAfter });
  installIdentity(ws.identityDir, client.keyPem, client.certPem);
  // openssl keeps whole seconds: measure from the certificate's own notAfter.
  const end = identityStoreFromConfig(ws.config).describe().notAfter.getTime();
  let now = end - 40 * DAY;
  const { monitor, metrics, alerts } = monitorOf(ws.config, () => now);
  try {
    await monitor.start(new AbortController().signal);
    assert.equal(await daysLeftGauge(metrics), 40);
    assert.equal(alerts.length, 0);

    now = end - 29.5 * DAY;
    monitor.check();
    monitor.check();
    assert.equal(await daysLeftGauge(metrics), 29);
    assert.deepEqual(alerts.map((a) => [a.kind, a.severity]), [['cert-expiring', 'warning']]);
    assert.match(alerts[0]?.message ?? '', /expires in 29 days/);

    now = end - 6.5 * DAY;
    monitor.check();
    monitor.check();
    assert.equal(await daysLeftGauge(metrics), 6);
    assert.deepEqual(alerts.map((a) => [a.kind, a.severity]), [['cert-expiring', 'warning'], ['cert-expiring', 'critical']]);

    now = end + DAY / 2;
    monitor.check();
    assert.equal(await daysLeftGauge(metrics), -1);
    assert.equal(alerts.at(-1)?.kind, 'cert-expired');
    assert.equal(alerts.length, 3);
  } finally {
    await monitor.stop();
    ws.cleanup();
  }
});

test('a clock before the certificate\'s validity at start raises clock-wrong and the monitor keeps running; other problems still fail the start', async () => {
  const ws = workspace({ caFile: pki.ca.certPath });
  const client = await pki.issueClientCert({ cn: GATEWAY_ID, notAfter: daysFromNow(40) });
  installIdentity(ws.identityDir, client.keyPem, client.certPem);
  const start = identityStoreFromConfig(ws.config).describe().notBefore.getTime();
  let now = start - DAY;
  const { monitor, metrics, alerts } = monitorOf(ws.config, () => now);
  try {
    await monitor.start(new AbortController().signal);
    assert.deepEqual(alerts.map((a) => [a.kind, a.severity]), [['clock-wrong', 'critical']]);
    assert.match(alerts[0]?.message ?? '', /system clock looks wrong/);
    now = start + DAY;
    monitor.check();
    assert.equal(await daysLeftGauge(metrics), 39);
    assert.equal(alerts.length, 1);
  } finally {
    await monitor.stop();
    ws.cleanup();
  }

  const expired = workspace({ caFile: pki.ca.certPath });
  const old = await pki.issueClientCert({ cn: GATEWAY_ID, notAfter: daysFromNow(1) });
  installIdentity(expired.identityDir, old.keyPem, old.certPem);
  const { monitor: failing } = monitorOf(expired.config, () => Date.now() + 2 * DAY);
  try {
    await assert.rejects(failing.start(new AbortController().signal), /expired/);
  } finally {
    await failing.stop();
    expired.cleanup();
  }
});
