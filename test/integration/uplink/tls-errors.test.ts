import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { UplinkError, type UplinkErrorKind } from '../../../main/uplink/errors.js';
import { createPki, daysFromNow, type IssuedCert, type Pki } from '../../helpers/pki.js';
import { startMosquitto, type Mosquitto } from '../../helpers/mosquitto.js';
import { freePort } from '../../helpers/net.js';
import { pino } from 'pino';
import { MemoryBuffer } from '../../../main/buffer/memory-buffer.js';
import { silentLogger } from '../../../main/log/logger.js';
import { createMetricsRegistry } from '../../../main/metrics/registry.js';
import { systemClock } from '../../../main/shared/clock.js';
import { Uplink } from '../../../main/uplink/uplink.js';
import { bufferConfig, cloudConfig, startRig, waitFor } from './fixture.js';

describe('uplink connect failures: each with its own kind, message and counter', () => {
  let pki: Pki;
  let otherCa: Pki;
  let broker: Mosquitto;
  let misnamedBroker: Mosquitto;
  let good: IssuedCert;

  before(async () => {
    pki = await createPki();
    otherCa = await createPki();
    broker = await startMosquitto({ pki });
    misnamedBroker = await startMosquitto({ pki, serverCert: await pki.issueServerCert({ hosts: ['broker.example.net'] }) });
    good = await pki.issueClientCert({ cn: 'gw-1' });
  });

  after(async () => {
    await broker?.cleanup();
    await misnamedBroker?.cleanup();
    await pki?.cleanup();
    await otherCa?.cleanup();
  });

  async function failureOf(options: { client?: IssuedCert; ca?: string; url?: string }): Promise<{ error: UplinkError; counted: Partial<Record<UplinkErrorKind, number>>; metrics: string }> {
    const rig = await startRig({ broker, pki, client: options.client ?? good, gatewayId: 'gw-1', ...(options.ca ? { ca: options.ca } : {}), ...(options.url ? { url: options.url } : {}) });
    try {
      const status = await waitFor(() => rig.uplink.status().lastError !== null && rig.uplink.status(), 'the first connect failure');
      assert.notEqual(status.state, 'connected');
      const error = await rig.uplink.reconnect().then(
        () => assert.fail('reconnect() should have failed'),
        (e: unknown) => e,
      );
      assert.ok(error instanceof UplinkError, `expected an UplinkError, got ${String(error)}`);
      assert.equal(status.lastError?.kind, error.kind, 'status and reconnect() agree on the kind');
      return { error, counted: rig.uplink.status().errors, metrics: await rig.metrics.metrics() };
    } finally {
      await rig.stop();
    }
  }

  it('wrong CA: the broker certificate is not trusted', async () => {
    const { error, counted, metrics } = await failureOf({ ca: otherCa.ca.certPem });
    assert.equal(error.kind, 'unknown-ca');
    assert.match(error.message, /not signed by the configured CA \(cloud\.caFile\)/);
    assert.ok((counted['unknown-ca'] ?? 0) >= 2);
    assert.match(metrics, /fieldgate_uplink_errors_total\{kind="unknown-ca"\} [2-9]/);
  });

  it('hostname mismatch: the broker certificate names another host', async () => {
    const { error } = await failureOf({ url: misnamedBroker.url });
    assert.equal(error.kind, 'hostname-mismatch');
    assert.match(error.message, /does not name the host in cloud\.url/);
    assert.match(error.message, /broker\.example\.net/);
  });

  it('client certificate from a CA the broker does not know', async () => {
    const { error } = await failureOf({ client: await otherCa.issueClientCert({ cn: 'gw-1' }) });
    assert.equal(error.kind, 'client-cert-rejected');
    assert.match(error.message, /rejected the client certificate: it does not know the CA that issued it/);
  });

  it('expired client certificate', async () => {
    const expired = await pki.issueClientCert({ cn: 'gw-1', notBefore: daysFromNow(-30), notAfter: daysFromNow(-1) });
    const { error } = await failureOf({ client: expired });
    assert.equal(error.kind, 'client-cert-expired');
    assert.match(error.message, /client certificate expired on/);
  });

  it('not-yet-valid client certificate suggests checking the clock', async () => {
    const future = await pki.issueClientCert({ cn: 'gw-1', notBefore: daysFromNow(3), days: 30 });
    const { error } = await failureOf({ client: future });
    assert.equal(error.kind, 'client-cert-not-yet-valid');
    assert.match(error.message, /check the system clock/);
  });

  it('plaintext with allowInsecure: a warning at every connect', async () => {
    const lines: string[] = [];
    const log = pino({ level: 'warn' }, { write: (line: string) => void lines.push(line) });
    const url = `mqtt://127.0.0.1:${await freePort()}`;
    const uplink = new Uplink({
      buffer: new MemoryBuffer({ options: bufferConfig(), log: silentLogger, clock: systemClock }),
      config: cloudConfig(url, { allowInsecure: true }),
      gatewayId: 'gw-1',
      credentials: () => Promise.reject(new Error('plaintext must not read credentials')),
      log,
      clock: systemClock,
      metrics: createMetricsRegistry({ processMetrics: false }),
      version: 'test',
    });
    await uplink.start();
    try {
      await waitFor(() => (uplink.status().errors['connection-refused'] ?? 0) >= 2 || undefined, 'two connect attempts');
      const warnings = lines.filter((line) => line.includes('WITHOUT TLS'));
      assert.ok(warnings.length >= 2, `one warning per connect, got ${warnings.length}`);
    } finally {
      await uplink.stop();
    }
  });

  it('a key that does not belong to the certificate', async () => {
    const other = await pki.issueClientCert({ cn: 'gw-1' });
    const { error } = await failureOf({ client: { ...good, keyPem: other.keyPem } });
    assert.equal(error.kind, 'bad-credentials');
    assert.match(error.message, /client certificate or key cannot be used/);
  });

  it('nothing listening: connection refused', async () => {
    const { error } = await failureOf({ url: `mqtts://localhost:${await freePort()}` });
    assert.equal(error.kind, 'connection-refused');
    assert.match(error.message, /is the broker running\?/);
  });
});
