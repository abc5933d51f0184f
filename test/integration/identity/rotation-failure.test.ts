// An error inside a rotation that a timer started (here: the next/ folder cannot be cleared) must
// become a rotation-failed alert and a back-off, not an unhandled rejection that exits the process.
import assert from 'node:assert/strict';
import { mkdirSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { Registry } from 'prom-client';
import type { IdentityAlert } from '../../../main/identity/alerts.js';
import { IdentityCredentials } from '../../../main/identity/credentials.js';
import { identityStoreFromConfig } from '../../../main/identity/from-config.js';
import { CertificateRotation, ROTATION_TOPICS, type RotationChannel } from '../../../main/identity/rotation.js';
import { silentLogger } from '../../../main/log/logger.js';
import { createPki, type Pki } from '../../helpers/pki.js';
import { GATEWAY_ID, waitFor, workspace, type Workspace } from './fixture.js';

const DAY = 86_400_000;
const RETRY_MS = 60_000;

describe('certificate rotation errors', () => {
  let pki: Pki;
  let ws: Workspace;
  let rotation: CertificateRotation | undefined;
  const unhandled: unknown[] = [];
  const onUnhandled = (reason: unknown) => unhandled.push(reason);

  before(async () => {
    pki = await createPki();
    ws = workspace({ caFile: pki.ca.certPath, identity: { rotation: { atLifetimeShare: 0.5, retryIntervalMs: RETRY_MS } } });
    const store = identityStoreFromConfig(ws.config);
    const { csrPem } = await store.writeProvisioningCsr();
    store.importCertificate(await pki.signCsr(csrPem, { days: 30 }), 'test CA', Date.now());
    process.on('unhandledRejection', onUnhandled);
  });

  after(async () => {
    process.off('unhandledRejection', onUnhandled);
    await rotation?.stop();
    ws?.cleanup();
    await pki?.cleanup();
  });

  it('alerts rotation-failed, backs off for retryIntervalMs, then rotates once the folder is writable', async () => {
    // 20 days into a 30-day certificate: rotation is due. Only the clock is faked.
    let now = Date.now() + 20 * DAY;
    const clock = { now: () => now };
    const store = identityStoreFromConfig(ws.config);
    const nextDir = join(ws.identityDir, 'next');
    // A folder left in next/ cannot be overwritten like a file: beginRotation fails with EISDIR.
    mkdirSync(join(nextDir, 'stray'), { recursive: true, mode: 0o700 });
    const sent: string[] = [];
    const alerts: IdentityAlert[] = [];
    const channel: RotationChannel = {
      publishControl: async (topic) => {
        sent.push(topic);
      },
      onControl: () => () => {},
      reconnect: async () => {},
    };
    const metrics = new Registry();
    rotation = new CertificateRotation({
      store,
      credentials: new IdentityCredentials({ store, clock }),
      channel,
      gatewayId: GATEWAY_ID,
      config: ws.config.identity.rotation,
      checkIntervalMs: 3_600_000,
      metrics,
      log: silentLogger,
      clock,
      onAlert: (alert) => alerts.push(alert),
    });
    await rotation.start(new AbortController().signal);
    await waitFor(() => alerts.length > 0, 'the rotation-failed alert');
    assert.deepEqual(alerts.map((a) => [a.kind, a.severity]), [['rotation-failed', 'warning']]);
    assert.match(alerts[0]?.message ?? '', /EISDIR/);
    assert.match(alerts[0]?.message ?? '', /next attempt in 1 min/);
    const results = (await metrics.getSingleMetric('fieldgate_identity_rotations_total')?.get())?.values ?? [];
    assert.deepEqual(results.map((v) => [v.labels.result, v.value]), [['error', 1]]);

    rmSync(nextDir, { recursive: true });
    await rotation.check();
    assert.deepEqual(sent, [], 'no new attempt before retryIntervalMs has passed');
    now += RETRY_MS;
    await rotation.check();
    assert.deepEqual(sent, [ROTATION_TOPICS.csr]);
    assert.ok(store.pendingRotation(), 'the next key and CSR are on disk');
    await new Promise((resolve) => setImmediate(resolve));
    assert.deepEqual(unhandled, []);
  });
});
