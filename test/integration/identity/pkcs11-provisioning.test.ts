import { after, afterEach, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { createPrivateKey } from 'node:crypto';
import { readdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { connectAsync, type MqttClient } from 'mqtt';
import { CliProcess, runCli } from '../../helpers/cli.js';
import { startMosquitto, type Mosquitto } from '../../helpers/mosquitto.js';
import { createPki, daysFromNow, type Pki } from '../../helpers/pki.js';
import { createSoftHsm, type SoftHsm } from '../../helpers/softhsm.js';
import { GATEWAY_ID, opensslText, waitFor, type Workspace, PREFIX, privateKeyIds, provisionInToken, tokenKeyId, tokenWorkspace } from './fixture.js';

let pki: Pki;
let otherPki: Pki;
let broker: Mosquitto;
let cloud: MqttClient;
let answer: (request: { requestId: string; csr: string }) => Promise<object>;
const received: { topic: string; body: Record<string, unknown> }[] = [];
const cleanups: (() => Promise<void> | void)[] = [];

before(async () => {
  pki = await createPki();
  otherPki = await createPki();
  broker = await startMosquitto({ pki, prefix: PREFIX });
  const reader = await pki.issueClientCert({ cn: broker.readerCn });
  cloud = await connectAsync(broker.url, { ca: pki.ca.certPem, cert: reader.certPem, key: reader.keyPem, protocolVersion: 5, reconnectPeriod: 0 });
  await cloud.subscribeAsync(`${PREFIX}/#`, { qos: 1 });
  cloud.on('message', (topic, payload) => {
    let body: Record<string, unknown>;
    try {
      body = JSON.parse(payload.toString()) as Record<string, unknown>;
    } catch {
      return;
    }
    received.push({ topic, body });
    if (topic.endsWith('/cert/csr')) {
      const request = body as { requestId: string; csr: string; gatewayId: string };
      void answer(request).then((reply) => cloud.publishAsync(`${PREFIX}/${request.gatewayId}/cert/issued`, JSON.stringify(reply), { qos: 1 }));
    }
  });
});

afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
  received.length = 0;
});

after(async () => {
  await cloud?.endAsync();
  await broker?.cleanup();
  await pki?.cleanup();
  await otherPki?.cleanup();
});

async function token(): Promise<SoftHsm> {
  const hsm = await createSoftHsm({ label: 'fg-test' });
  cleanups.push(() => hsm.cleanup());
  return hsm;
}

function track(ws: Workspace): Workspace {
  cleanups.push(() => ws.cleanup());
  return ws;
}

async function runGateway(ws: Workspace, hsm: SoftHsm): Promise<CliProcess> {
  const gateway = new CliProcess(['run', '--config', ws.configFile], hsm.env);
  cleanups.push(async () => {
    gateway.child.kill('SIGTERM');
    await gateway.exit();
  });
  return gateway;
}

function onlineCount(): number {
  return received.filter((m) => m.topic === `${PREFIX}/${GATEWAY_ID}/status` && m.body.online === true).length;
}

function filesUnder(dir: string): string[] {
  return readdirSync(dir).flatMap((entry) => {
    const path = join(dir, entry);
    return statSync(path).isDirectory() ? filesUnder(path) : [path];
  });
}

function parsesAsPrivateKey(bytes: Buffer): boolean {
  for (const attempt of [() => createPrivateKey(bytes.toString('utf8')), () => createPrivateKey({ key: bytes, format: 'der', type: 'pkcs8' }), () => createPrivateKey({ key: bytes, format: 'der', type: 'sec1' })]) {
    try {
      attempt();
      return true;
    } catch {
      // not a key in this form
    }
  }
  return false;
}

test('provisioning with the key in the token: CSR signed inside it, certificate imported, mutual TLS to Mosquitto as CN gw-1, no private key in any file', async () => {
  const hsm = await token();
  const ws = track(tokenWorkspace({ hsm, broker, brokerCaFile: pki.ca.certPath }));
  const { csrPem, keyId } = await provisionInToken(ws, hsm, pki);

  assert.match(opensslText(['req', '-noout', '-verify', '-text'], csrPem), /Subject: CN = gw-1[\s\S]*ASN1 OID: prime256v1/);
  const reference = JSON.parse(readFileSync(join(ws.identityDir, 'key.pkcs11.json'), 'utf8')) as { publicKey: string };
  assert.equal(opensslText(['req', '-noout', '-pubkey'], csrPem).replace(/-----[^-]+-----|\s/g, ''), reference.publicKey, 'the CSR carries the token key');
  const objects = await hsm.objects();
  assert.deepEqual(privateKeyIds(objects), [keyId]);
  assert.match(objects, /Private Key Object; EC[\s\S]*?label:\s+fieldgate:gw-1[\s\S]*?Access:\s+sensitive, always sensitive, never extractable/);

  const shown = await runCli(['identity', 'show', '--config', ws.configFile, '--json'], hsm.env);
  assert.equal(shown.code, 0, shown.stderr);
  const report = JSON.parse(shown.stdout) as { status: string; keyStore: unknown; subject: string };
  assert.equal(report.status, 'ok');
  assert.deepEqual(report.keyStore, { kind: 'pkcs11', hardwareBacked: true, extractable: false, token: 'token "fg-test"' });
  const text = await runCli(['identity', 'show', '--config', ws.configFile], hsm.env);
  assert.match(text.stdout, /key store: +pkcs11, token "fg-test": hardware-backed, not extractable/);

  const check = await runCli(['config', 'check', ws.configFile], hsm.env);
  assert.equal(check.code, 0, check.stderr);
  assert.match(check.stdout, /pkcs11: token "fg-test" \(serial [0-9a-f]+, SoftHSM project SoftHSM v2\)/);
  assert.match(check.stdout, new RegExp(`pkcs11: PIN accepted; device key ${keyId} present \\(sensitive, not extractable\\)`));

  const gateway = await runGateway(ws, hsm);
  await gateway.waitForLine('"uplink connected"');
  // The ACL lets a client publish only under its certificate CN: readings arriving here prove the broker saw CN gw-1.
  await waitFor(() => received.some((m) => m.topic === `${PREFIX}/${GATEWAY_ID}/readings/s1`), `readings from the gateway (log: ${gateway.lines.join('\n')})`);
  assert.ok(onlineCount() >= 1);
  assert.match(broker.log(), /u'gw-1'/, 'mosquitto took the CN as the username');

  for (const file of filesUnder(ws.dataDir)) {
    const bytes = readFileSync(file);
    assert.doesNotMatch(bytes.toString('latin1'), /PRIVATE KEY/, file);
    assert.equal(parsesAsPrivateKey(bytes), false, `${file} holds a private key`);
  }
});

test('rotation in the token: the next key is made there, the old key object is destroyed only after the new certificate connected', async () => {
  const hsm = await token();
  const ws = track(tokenWorkspace({ hsm, broker, brokerCaFile: pki.ca.certPath, identity: { rotation: { atLifetimeShare: 0.5 } } }));
  // 20 of 30 days gone: past half the lifetime, so a rotation is due at start.
  const { keyId: oldId } = await provisionInToken(ws, hsm, pki, { notBefore: daysFromNow(-20), notAfter: daysFromNow(10) });
  answer = async ({ requestId, csr }) => ({ requestId, cert: await pki.signCsr(csr, { days: 90 }) });
  const gateway = await runGateway(ws, hsm);
  await waitFor(() => received.some((m) => m.topic.endsWith('/cert/status') && m.body.state === 'installed'), `cert/status installed (log: ${gateway.lines.join('\n')})`);
  const newId = tokenKeyId(ws);
  assert.notEqual(newId, oldId);
  assert.deepEqual(privateKeyIds(await hsm.objects()), [newId], 'only the new key is left in the token');
  const online = onlineCount();
  await gateway.waitForLine('certificate rotated');
  // A reconnect with the new identity after the rotation is accepted by the broker too.
  gateway.child.kill('SIGTERM');
  await gateway.exit();
  const again = await runGateway(ws, hsm);
  await waitFor(() => onlineCount() > online, `the gateway online again with the rotated identity (log: ${again.lines.join('\n')})`);
});

test('a certificate the broker refuses rolls back to the old key in the token, and the refused key object is destroyed', async () => {
  const hsm = await token();
  const bundle = join(otherPki.dir, 'both-cas.pem');
  writeFileSync(bundle, pki.ca.certPem + otherPki.ca.certPem);
  const ws = track(tokenWorkspace({ hsm, broker, brokerCaFile: pki.ca.certPath, caFile: bundle, identity: { rotation: { atLifetimeShare: 0.5 } } }));
  const { keyId: oldId } = await provisionInToken(ws, hsm, pki, { notBefore: daysFromNow(-20), notAfter: daysFromNow(10) });
  // Valid for the gateway's own checks (it chains to the bundle), but Mosquitto trusts only `pki`.
  answer = async ({ requestId, csr }) => ({ requestId, cert: await otherPki.signCsr(csr, { days: 90 }) });
  const gateway = await runGateway(ws, hsm);
  await waitFor(() => received.some((m) => m.topic.endsWith('/cert/status') && m.body.state === 'rolled-back'), `cert/status rolled-back (log: ${gateway.lines.join('\n')})`);
  assert.equal(tokenKeyId(ws), oldId);
  assert.deepEqual(privateKeyIds(await hsm.objects()), [oldId], 'the refused key is gone, the old one kept');
  // Connected first with the old key, refused with the new one, then connected with the old key again.
  await waitFor(() => gateway.records().filter((r) => r.msg === 'uplink connected').length >= 2, 'the uplink connected again with the old key');
});

test('identity wipe destroys the token objects, including an orphan a crash left behind', async () => {
  const hsm = await token();
  const ws = track(tokenWorkspace({ hsm, broker, brokerCaFile: pki.ca.certPath }));
  const { keyId } = await provisionInToken(ws, hsm, pki);
  // A key made in the token whose reference was never written (a crash in between): wipe finds it by label.
  const orphan = tokenWorkspace({ hsm, broker, brokerCaFile: pki.ca.certPath });
  cleanups.push(() => orphan.cleanup());
  assert.equal((await runCli(['identity', 'csr', '--config', orphan.configFile], hsm.env)).code, 0);
  const orphanId = tokenKeyId(orphan);
  assert.deepEqual(privateKeyIds(await hsm.objects()).sort(), [keyId, orphanId].sort());

  const wiped = await runCli(['identity', 'wipe', '--yes', '--config', ws.configFile], hsm.env);
  assert.equal(wiped.code, 0, wiped.stderr);
  const report = JSON.parse(wiped.stdout) as { destroyed: string[]; state: string };
  assert.equal(report.state, 'first-run');
  for (const id of [keyId, orphanId]) assert.ok(report.destroyed.some((entry) => entry.includes(`id ${id} (PRIVATE_KEY)`)), `${id} listed: ${report.destroyed.join(', ')}`);
  assert.equal((await hsm.objects()).trim(), '', 'no object left in the token');
});
