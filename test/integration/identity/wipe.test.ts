// identity wipe also destroys the secrets that live outside the identity folder (an externally
// managed cloud.keyFile, ui.tokenFile, the control API's state, OTA logs), and does not claim
// first-run state while any secret is left.
import assert from 'node:assert/strict';
import { existsSync, mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { wipeDevice } from '../../../main/identity/wipe.js';
import { runCli } from '../../helpers/cli.js';
import { createPki, type Pki } from '../../helpers/pki.js';
import { workspace, type Workspace } from './fixture.js';

let pki: Pki;
before(async () => {
  pki = await createPki();
});
after(async () => {
  await pki?.cleanup();
});

function externalSecrets(ws: Workspace): { keyFile: string; certFile: string; tokenFile: string; apiFile: string; otaLog: string; floor: string } {
  const etc = join(ws.root, 'etc');
  mkdirSync(etc, { recursive: true });
  const paths = {
    keyFile: join(etc, 'client.key'),
    certFile: join(etc, 'client.crt'),
    tokenFile: join(etc, 'ui.token'),
    apiFile: join(ws.dataDir, 'api', 'accounts.json'),
    otaLog: join(ws.dataDir, 'ota', 'state', 'logs', '42.log'),
    floor: join(ws.dataDir, 'ota', 'state', 'floor.json'),
  };
  mkdirSync(join(ws.dataDir, 'api'), { recursive: true, mode: 0o700 });
  mkdirSync(join(ws.dataDir, 'ota', 'state', 'logs'), { recursive: true });
  writeFileSync(paths.keyFile, '-----BEGIN PRIVATE KEY-----\nexternal\n-----END PRIVATE KEY-----\n', { mode: 0o600 });
  writeFileSync(paths.certFile, '-----BEGIN CERTIFICATE-----\npublic\n-----END CERTIFICATE-----\n');
  writeFileSync(paths.tokenFile, 'a-bearer-token-of-at-least-32-characters\n', { mode: 0o600 });
  writeFileSync(paths.apiFile, '{"users":[{"name":"admin","hash":"scrypt$…"}]}', { mode: 0o600 });
  writeFileSync(paths.otaLog, 'new version started\n');
  writeFileSync(paths.floor, '{"version":42,"securityCounter":3}\n');
  return paths;
}

test('wipe destroys an external cloud.keyFile, ui.tokenFile, the API state and OTA logs; keeps the anti-rollback floor', () => {
  const ws = workspace(({ root }) => ({
    caFile: pki.ca.certPath,
    cloud: { url: 'mqtts://broker.example.com:8883', caFile: pki.ca.certPath, certFile: join(root, 'etc', 'client.crt'), keyFile: join(root, 'etc', 'client.key') },
    ui: { enabled: false, tokenFile: join(root, 'etc', 'ui.token') },
  }));
  try {
    const paths = externalSecrets(ws);
    const report = wipeDevice(ws.config);
    assert.equal(report.state, 'first-run');
    assert.deepEqual(report.remaining, []);
    for (const secret of [paths.keyFile, paths.tokenFile, paths.apiFile]) {
      assert.ok(report.destroyed.includes(secret), secret);
      assert.equal(existsSync(secret), false, secret);
    }
    assert.equal(existsSync(paths.otaLog), false);
    assert.equal(existsSync(paths.floor), true, 'the floor keeps old bundles from being installed again');
    assert.deepEqual(report.kept, [join(ws.dataDir, 'ota', 'state'), pki.ca.certPath, paths.certFile]);
  } finally {
    ws.cleanup();
  }
});

test('a secret that cannot be destroyed is listed, the state is not first-run and the CLI exits 1', async () => {
  const ws = workspace(({ root }) => ({ caFile: pki.ca.certPath, ui: { enabled: false, tokenFile: join(root, 'etc', 'ui.token') } }));
  try {
    const paths = externalSecrets(ws);
    // Something the wipe cannot overwrite where the token should be (here a folder; on a box, a read-only mount).
    const blocked = paths.tokenFile;
    rmSync(blocked);
    mkdirSync(blocked);
    const wiped = await runCli(['identity', 'wipe', '--yes', '--config', ws.configFile]);
    assert.equal(wiped.code, 1, wiped.stdout);
    const report = JSON.parse(wiped.stdout) as { state: string; remaining: { path: string; error: string }[] };
    assert.equal(report.state, 'incomplete');
    assert.deepEqual(report.remaining.map((r) => r.path), [blocked]);
    assert.match(report.remaining[0]?.error ?? '', /EISDIR/);
    assert.match(wiped.stderr, /wipe incomplete, 1 secret\(s\) remain/);
    assert.equal(existsSync(paths.apiFile), false, 'the rest is wiped all the same');
  } finally {
    ws.cleanup();
  }
});
