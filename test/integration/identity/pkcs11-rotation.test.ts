import { test } from 'node:test';
import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { daysFromNow } from '../../helpers/pki.js';
import { privateKeyIds, provisionInToken, useTokenRig, tokenKeyId, tokenWorkspace, waitFor } from './fixture.js';

const tokenRig = useTokenRig();

test('rotation in the token: the next key is made there, the old key object is destroyed only after the new certificate connected', async () => {
  const rig = tokenRig();
  const hsm = await rig.token();
  const ws = rig.track(tokenWorkspace({ hsm, broker: rig.broker, brokerCaFile: rig.pki.ca.certPath, identity: { rotation: { atLifetimeShare: 0.5 } } }));
  // 20 of 30 days gone: past half the lifetime, so a rotation is due at start.
  const { keyId: oldId } = await provisionInToken(ws, hsm, rig.pki, { notBefore: daysFromNow(-20), notAfter: daysFromNow(10) });
  rig.answer = async ({ requestId, csr }) => ({ requestId, cert: await rig.pki.signCsr(csr, { days: 90 }) });
  const gateway = rig.runGateway(ws, hsm);
  await waitFor(() => rig.received.some((m) => m.topic.endsWith('/cert/status') && m.body.state === 'installed'), `cert/status installed (log: ${gateway.lines.join('\n')})`);
  const newId = tokenKeyId(ws);
  assert.notEqual(newId, oldId);
  assert.deepEqual(privateKeyIds(await hsm.objects()), [newId], 'only the new key is left in the token');
  const online = rig.onlineCount();
  await gateway.waitForLine('certificate rotated');
  // A reconnect with the new identity after the rotation is accepted by the broker too.
  gateway.child.kill('SIGTERM');
  await gateway.exit();
  const again = rig.runGateway(ws, hsm);
  await waitFor(() => rig.onlineCount() > online, `the gateway online again with the rotated identity (log: ${again.lines.join('\n')})`);
});

test('a certificate the broker refuses rolls back to the old key in the token, and the refused key object is destroyed', async () => {
  const rig = tokenRig();
  const hsm = await rig.token();
  const bundle = join(rig.otherPki.dir, 'both-cas.pem');
  writeFileSync(bundle, rig.pki.ca.certPem + rig.otherPki.ca.certPem);
  const ws = rig.track(tokenWorkspace({ hsm, broker: rig.broker, brokerCaFile: rig.pki.ca.certPath, caFile: bundle, identity: { rotation: { atLifetimeShare: 0.5 } } }));
  const { keyId: oldId } = await provisionInToken(ws, hsm, rig.pki, { notBefore: daysFromNow(-20), notAfter: daysFromNow(10) });
  // Valid for the gateway's own checks (it chains to the bundle), but Mosquitto trusts only `pki`.
  rig.answer = async ({ requestId, csr }) => ({ requestId, cert: await rig.otherPki.signCsr(csr, { days: 90 }) });
  const gateway = rig.runGateway(ws, hsm);
  await waitFor(() => rig.received.some((m) => m.topic.endsWith('/cert/status') && m.body.state === 'rolled-back'), `cert/status rolled-back (log: ${gateway.lines.join('\n')})`);
  assert.equal(tokenKeyId(ws), oldId);
  assert.deepEqual(privateKeyIds(await hsm.objects()), [oldId], 'the refused key is gone, the old one kept');
  // Connected first with the old key, refused with the new one, then connected with the old key again.
  await waitFor(() => gateway.records().filter((r) => r.msg === 'uplink connected').length >= 2, 'the uplink connected again with the old key');
});

