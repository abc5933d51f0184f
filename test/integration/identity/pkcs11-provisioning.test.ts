import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createPrivateKey } from 'node:crypto';
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { runCli } from '../../helpers/cli.js';
import { GATEWAY_ID, opensslText, PREFIX, privateKeyIds, provisionInToken, useTokenRig, tokenWorkspace, waitFor } from './fixture.js';

const tokenRig = useTokenRig();

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
  const rig = tokenRig();
  const hsm = await rig.token();
  const ws = rig.track(tokenWorkspace({ hsm, broker: rig.broker, brokerCaFile: rig.pki.ca.certPath }));
  const { csrPem, keyId } = await provisionInToken(ws, hsm, rig.pki);

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

  const gateway = rig.runGateway(ws, hsm);
  await gateway.waitForLine('"uplink connected"');
  // The ACL lets a client publish only under its certificate CN: readings arriving here prove the broker saw CN gw-1.
  await waitFor(() => rig.received.some((m) => m.topic === `${PREFIX}/${GATEWAY_ID}/readings/s1`), `readings from the gateway (log: ${gateway.lines.join('\n')})`);
  assert.ok(rig.onlineCount() >= 1);
  assert.match(rig.broker.log(), /u'gw-1'/, 'mosquitto took the CN as the username');

  for (const file of filesUnder(ws.dataDir)) {
    const bytes = readFileSync(file);
    assert.doesNotMatch(bytes.toString('latin1'), /PRIVATE KEY/, file);
    assert.equal(parsesAsPrivateKey(bytes), false, `${file} holds a private key`);
  }
});

