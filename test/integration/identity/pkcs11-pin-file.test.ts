import { test } from 'node:test';
import assert from 'node:assert/strict';
import { chmodSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { runCli } from '../../helpers/cli.js';
import { SOFTHSM_MODULE } from '../../helpers/softhsm.js';
import { workspace } from './fixture.js';

test('fieldgate run refuses to start (exit 78, not restarted) with a PIN file others can read or one the token would refuse', async (t) => {
  const ws = workspace(({ root }) => ({
    caFile: join(root, 'ca.pem'),
    cloud: { url: 'mqtts://localhost:8883', caFile: join(root, 'ca.pem') },
    identity: { keyStore: 'pkcs11', pkcs11: { module: SOFTHSM_MODULE, tokenLabel: 'fg', pinFile: join(root, 'token.pin') } },
  }));
  t.after(() => ws.cleanup());
  const pinFile = join(ws.root, 'token.pin');

  writeFileSync(pinFile, '246810', { mode: 0o644 });
  chmodSync(pinFile, 0o644);
  const exposed = await runCli(['run', '--config', ws.configFile]);
  assert.equal(exposed.code, 78, exposed.stderr);
  assert.equal(exposed.stderr, `fieldgate: identity.pkcs11.pinFile "${pinFile}" is readable by group or others (mode 644): chmod 600 ${pinFile}\n`);

  chmodSync(pinFile, 0o600);
  writeFileSync(pinFile, '246810\n');
  const newline = await runCli(['run', '--config', ws.configFile]);
  assert.equal(newline.code, 78);
  assert.match(newline.stderr, /contains a line break, which the token would take as part of the PIN: write it with printf/);
  assert.doesNotMatch(newline.stdout, /component started/);
});
