// Bundles fetched over HTTPS with the device's mutual-TLS identity: a real TLS server that
// requires client certificates from a CA made by the test. The transport is authenticated, but
// the bytes still go through exactly the same verification as a USB bundle.
import assert from 'node:assert/strict';
import { createServer, type Server } from 'node:https';
import type { AddressInfo } from 'node:net';
import { after, before, describe, test } from 'node:test';
import { fetchBundle } from '../../../main/ota/fetch.js';
import { OtaError, type OtaReason } from '../../../main/ota/reasons.js';
import type { TlsCredentials } from '../../../main/shared/tls.js';
import { createPki, type IssuedCert, type Pki } from '../../helpers/pki.js';
import { bundleBytes, offsetOf } from '../../unit/ota/bundle-factory.js';
import { OtaBox, runCli, SCRIPTS } from './fixture.js';

let pki: Pki;
let otherPki: Pki;
let server: Server;
let base: string;
let device: IssuedCert;
let stranger: IssuedCert;
let box: OtaBox;
const routes = new Map<string, Buffer>();

before(async () => {
  pki = await createPki();
  otherPki = await createPki();
  const serverCert = await pki.issueServerCert();
  device = await pki.issueClientCert({ cn: 'gw-1' });
  stranger = await otherPki.issueClientCert({ cn: 'gw-1' });
  server = createServer({ key: serverCert.keyPem, cert: serverCert.certPem, ca: pki.ca.certPem, requestCert: true, rejectUnauthorized: true }, (req, res) => {
    if (req.url === '/moved') {
      res.writeHead(302, { location: '/v2.tar' }).end();
      return;
    }
    const body = routes.get(req.url ?? '');
    if (body === undefined) res.writeHead(404).end();
    else res.writeHead(200, { 'content-length': body.length }).end(body);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  base = `https://localhost:${(server.address() as AddressInfo).port}`;

  box = await OtaBox.create();
  await box.installer().install(box.open(await box.writeBundle(box.release(1, SCRIPTS.good))));
  const release = box.release(2, SCRIPTS.good);
  const genuine = await bundleBytes(release, { gzip: true });
  routes.set('/v2.tar', genuine);
  const tampered = await bundleBytes(release);
  tampered[offsetOf(tampered, release.files[1]!.data) + 5]! ^= 1;
  routes.set('/tampered.tar', tampered);
});

after(async () => {
  const closed = new Promise<void>((resolve) => server.close(() => resolve()));
  server.closeAllConnections();
  await closed;
  await box.dispose();
  await pki.cleanup();
  await otherPki.cleanup();
});

const identity = (cert: IssuedCert, ca = pki.ca.certPem) => async (): Promise<TlsCredentials> => ({ ca, cert: cert.certPem, key: cert.keyPem });

function isReason(reason: OtaReason) {
  return (error: unknown) => {
    assert.ok(error instanceof OtaError, `expected an OtaError, got ${String(error)}`);
    assert.equal(error.code, reason, error.message);
    return true;
  };
}

describe('OTA over HTTPS with mutual TLS', () => {
  test('a tampered bundle from the authenticated server is refused like a USB one, writing nothing outside staging', async () => {
    const before = await box.snapshotOutsideStaging();
    const stream = await fetchBundle(`${base}/tampered.tar`, { credentials: identity(device), maxBundleBytes: 1 << 24 });
    await assert.rejects(box.installer().install(stream), isReason('file-hash-mismatch'));
    assert.deepEqual(await box.snapshotOutsideStaging(), before);
  });

  test('a client certificate from another CA is rejected by the server → fetch-failed', async () => {
    await assert.rejects(fetchBundle(`${base}/v2.tar`, { credentials: identity(stranger), maxBundleBytes: 1 << 24 }), isReason('fetch-failed'));
  });

  test('a server the device CA did not sign is not trusted → fetch-failed', async () => {
    await assert.rejects(
      fetchBundle(`${base}/v2.tar`, { credentials: identity(device, otherPki.ca.certPem), maxBundleBytes: 1 << 24 }),
      isReason('fetch-failed'),
    );
  });

  test('redirects, plain http and missing files are refused', async () => {
    const options = { credentials: identity(device), maxBundleBytes: 1 << 24 };
    await assert.rejects(fetchBundle(`${base}/moved`, options), (error: unknown) => isReason('fetch-failed')(error) && /redirect/.test((error as Error).message));
    await assert.rejects(fetchBundle(`${base.replace('https', 'http')}/v2.tar`, options), isReason('fetch-failed'));
    await assert.rejects(fetchBundle(`${base}/nope.tar`, options), isReason('fetch-failed'));
  });

  test('a bundle larger than the cap is refused from its Content-Length → archive-too-large', async () => {
    await assert.rejects(fetchBundle(`${base}/v2.tar`, { credentials: identity(device), maxBundleBytes: 1000 }), isReason('archive-too-large'));
  });

  test('`fieldgate ota install https://…` with the device identity installs and marks good', async () => {
    const run = await runCli(['ota', 'install', `${base}/v2.tar`, ...box.deviceArgs(), '--tls-ca', pki.ca.certPath, '--tls-cert', device.certPath, '--tls-key', device.keyPath]);
    assert.equal(run.code, 0, run.stderr);
    assert.equal(await box.current(), 'versions/2');
  });
});
