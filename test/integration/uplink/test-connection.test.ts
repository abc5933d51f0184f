// testCloud against a real Mosquitto with mutual TLS: one connection with proposed settings, the
// exact error kind and a hint when it fails; and the CA upload those settings can then name.
import assert from 'node:assert/strict';
import { mkdtemp, readFile, rm, stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { silentLogger } from '../../../main/log/logger.js';
import { ApiError, apiMethods } from '../../../main/shared/api.js';
import { systemClock } from '../../../main/shared/clock.js';
import { cloudSchema } from '../../../main/shared/config/cloud.js';
import { CloudTester, UPLINK_ERROR_HINTS } from '../../../main/uplink/test-connection.js';
import { startMosquitto, type Mosquitto } from '../../helpers/mosquitto.js';
import { createPki, type IssuedCert, type Pki } from '../../helpers/pki.js';

describe('testCloud against Mosquitto', () => {
  let dir: string;
  let pki: Pki;
  let otherCa: Pki;
  let broker: Mosquitto;
  let misnamedBroker: Mosquitto;
  let client: IssuedCert;
  let tester: CloudTester;

  before(async () => {
    dir = await mkdtemp(join(tmpdir(), 'fieldgate-cloud-test-'));
    pki = await createPki();
    otherCa = await createPki();
    broker = await startMosquitto({ pki });
    misnamedBroker = await startMosquitto({ pki, serverCert: await pki.issueServerCert({ hosts: ['broker.example.net'] }) });
    client = await pki.issueClientCert({ cn: 'gw-1' });
    tester = new CloudTester({
      gatewayId: 'gw-1',
      onBoxIdentity: { certFile: client.certPath, key: () => ({ key: client.keyPem }) },
      caDir: join(dir, 'cloud-ca'),
      log: silentLogger,
      clock: systemClock,
    });
  });

  after(async () => {
    await broker?.cleanup();
    await misnamedBroker?.cleanup();
    await pki?.cleanup();
    await otherCa?.cleanup();
    await rm(dir, { recursive: true, force: true });
  });

  const settings = (overrides: Record<string, unknown>) => ({ settings: cloudSchema.parse({ url: broker.url, caFile: pki.ca.certPath, ...overrides }) });

  it('connects with the right CA and the on-box identity, or a given certificate and key', async () => {
    const onBox = await tester.test(settings({}));
    assert.deepEqual(onBox, { ok: true, broker: broker.url, message: `connected to ${broker.url} as "gw-1"; nothing was saved` });
    const given = await tester.test(settings({ certFile: client.certPath, keyFile: client.keyPath }));
    assert.equal(given.ok, true);
    assert.match(broker.log(), /gw-1-test-[0-9a-f]{6}/, 'the test uses its own client id, so the running uplink keeps its session');
  });

  it('names a wrong CA unknown-ca, with a hint', async () => {
    const result = apiMethods.testCloud.result.parse(await tester.test(settings({ caFile: otherCa.ca.certPath })));
    assert.equal(result.ok, false);
    assert.ok(!result.ok);
    assert.equal(result.kind, 'unknown-ca');
    assert.match(result.message, /not signed by the configured CA/);
    assert.equal(result.hint, UPLINK_ERROR_HINTS['unknown-ca']);
  });

  it('names a broker certificate for another host, a client certificate from another CA and a CN that is not gateway.id', async () => {
    const misnamed = await tester.test(settings({ url: misnamedBroker.url }));
    assert.equal(!misnamed.ok && misnamed.kind, 'hostname-mismatch');
    const foreign = await otherCa.issueClientCert({ cn: 'gw-1' });
    const rejected = await tester.test(settings({ certFile: foreign.certPath, keyFile: foreign.keyPath }));
    assert.equal(!rejected.ok && rejected.kind, 'client-cert-rejected');
    const other = await pki.issueClientCert({ cn: 'gw-2' });
    const mismatch = await tester.test(settings({ certFile: other.certPath, keyFile: other.keyPath }));
    assert.equal(!mismatch.ok && mismatch.kind, 'identity-mismatch');
    assert.match(!mismatch.ok ? mismatch.message : '', /"gw-2" differs from gateway.id "gw-1"/);
  });

  it('says when there is no client certificate at all', async () => {
    const bare = new CloudTester({ gatewayId: 'gw-1', onBoxIdentity: { certFile: join(dir, 'none.pem'), key: () => assert.fail('no certificate, so no key is asked for') }, caDir: dir, log: silentLogger, clock: systemClock });
    const result = await bare.test(settings({}));
    assert.equal(!result.ok && result.kind, 'bad-credentials');
    assert.match(!result.ok ? result.message : '', /no certificate yet/);
  });

  it('stores an uploaded CA 0644 in the data dir; the settings can name it', async () => {
    const uploaded = apiMethods.uploadCa.result.parse(await tester.uploadCa({ pem: pki.ca.certPem }));
    assert.equal(uploaded.caFile.startsWith(join(dir, 'cloud-ca', 'ca-')), true);
    assert.deepEqual(uploaded.subjects, [`CN=${pki.ca.name}`]);
    assert.equal((await stat(uploaded.caFile)).mode & 0o777, 0o644);
    assert.equal(await readFile(uploaded.caFile, 'utf8'), `${pki.ca.certPem.trim()}\n`);
    assert.equal((await tester.test(settings({ caFile: uploaded.caFile }))).ok, true);

    const refused = (field: string, pattern: RegExp) => (error: unknown) => error instanceof ApiError && error.kind === 'bad-request' && error.details.field === field && pattern.test(error.message);
    await assert.rejects(tester.uploadCa({ pem: `${pki.ca.certPem}\n${client.keyPem}` }), refused('pem', /private key/));
    await assert.rejects(tester.uploadCa({ pem: client.certPem }), refused('pem', /is not a CA certificate/));
    await assert.rejects(tester.uploadCa({ pem: 'hello' }), refused('pem', /no PEM certificate/));
  });
});
