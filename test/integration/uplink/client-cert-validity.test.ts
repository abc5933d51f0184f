import assert from 'node:assert/strict';
import { chmod, mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { MemoryBuffer } from '../../../main/buffer/memory-buffer.js';
import { validateConfig } from '../../../main/config/validate.js';
import { createDeviceIdentity } from '../../../main/identity/device-identity.js';
import { silentLogger } from '../../../main/log/logger.js';
import { createMetricsRegistry } from '../../../main/metrics/registry.js';
import { systemClock } from '../../../main/shared/clock.js';
import type { TlsCredentialProvider } from '../../../main/shared/tls.js';
import { configuredCredentialProvider } from '../../../main/uplink/credentials.js';
import { Uplink } from '../../../main/uplink/uplink.js';
import { startMosquitto, type Mosquitto } from '../../helpers/mosquitto.js';
import { createPki, daysFromNow, type IssuedCert, type Pki } from '../../helpers/pki.js';
import { waitFor } from './fixture.js';

const GATEWAY_ID = 'gw-validity';

describe('uplink with a client certificate outside its validity (real certificates, real Mosquitto)', () => {
  let pki: Pki;
  let broker: Mosquitto;
  let expired: IssuedCert;
  let notYetValid: IssuedCert;

  before(async () => {
    pki = await createPki();
    broker = await startMosquitto({ pki });
    expired = await pki.issueClientCert({ cn: GATEWAY_ID, notBefore: daysFromNow(-10), notAfter: daysFromNow(-1) });
    notYetValid = await pki.issueClientCert({ cn: GATEWAY_ID, notBefore: daysFromNow(1), notAfter: daysFromNow(30) });
  });

  after(async () => {
    await broker?.cleanup();
    await pki?.cleanup();
  });

  /** Runs an uplink until its first failed connect; `onBox` installs the certificate as the on-box identity, else names the files in cloud.certFile/keyFile. */
  async function firstError(cert: IssuedCert, onBox: boolean) {
    const root = await mkdtemp(join(tmpdir(), 'fieldgate-validity-'));
    const dataDir = join(root, 'data');
    let files = {};
    if (onBox) {
      const identityDir = join(dataDir, 'identity');
      await mkdir(identityDir, { recursive: true, mode: 0o700 });
      await chmod(identityDir, 0o700);
      await writeFile(join(identityDir, 'key.pem'), cert.keyPem, { mode: 0o600 });
      await writeFile(join(identityDir, 'cert.pem'), cert.certPem, { mode: 0o600 });
    } else {
      files = { certFile: cert.certPath, keyFile: cert.keyPath };
    }
    const config = validateConfig({ gateway: { id: GATEWAY_ID, dataDir }, ui: { enabled: false }, cloud: { url: broker.url, caFile: pki.ca.certPath, backoff: { initialMs: 100, maxMs: 200 }, ...files } });
    const cloud = config.cloud;
    assert.ok(cloud);
    const metrics = createMetricsRegistry({ processMetrics: false });
    const credentials: TlsCredentialProvider = onBox ? createDeviceIdentity({ config, log: silentLogger, clock: systemClock, metrics }).credentials.provide : configuredCredentialProvider(cloud);
    const buffer = new MemoryBuffer({ options: config.buffer, log: silentLogger, clock: systemClock });
    await buffer.start(new AbortController().signal);
    const uplink = new Uplink({ buffer, config: cloud, gatewayId: GATEWAY_ID, credentials, log: silentLogger, clock: systemClock, metrics, version: 'test' });
    try {
      await uplink.start();
      return await waitFor(() => uplink.status().lastError ?? undefined, 'the first failed connect');
    } finally {
      await uplink.stop();
      await buffer.stop();
      await rm(root, { recursive: true, force: true });
    }
  }

  for (const onBox of [true, false]) {
    const where = onBox ? 'the on-box identity' : 'cloud.certFile/keyFile';
    it(`${where}: an expired certificate is client-cert-expired, with the renewal hint`, async () => {
      const error = await firstError(expired, onBox);
      assert.equal(error.kind, 'client-cert-expired', error.message);
      assert.match(error.message, /expired on \d{4}-\d\d-\d\dT.*(fieldgate identity csr|renew)/);
    });

    it(`${where}: a certificate not valid yet is client-cert-not-yet-valid, pointing at the clock`, async () => {
      const error = await firstError(notYetValid, onBox);
      assert.equal(error.kind, 'client-cert-not-yet-valid', error.message);
      assert.match(error.message, /clock/);
    });
  }
});
