import { test } from 'node:test';
import assert from 'node:assert/strict';
import { runCli } from '../../helpers/cli.js';
import { privateKeyIds, provisionInToken, useTokenRig, tokenKeyId, tokenWorkspace } from './fixture.js';

const tokenRig = useTokenRig();

test('identity wipe destroys the token objects, including an orphan a crash left behind', async () => {
  const rig = tokenRig();
  const hsm = await rig.token();
  const ws = rig.track(tokenWorkspace({ hsm, broker: rig.broker, brokerCaFile: rig.pki.ca.certPath }));
  const { keyId } = await provisionInToken(ws, hsm, rig.pki);
  // A key made in the token whose reference was never written (a crash in between): wipe finds it by label.
  const orphan = tokenWorkspace({ hsm, broker: rig.broker, brokerCaFile: rig.pki.ca.certPath });
  rig.track(orphan);
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
