import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { chmodSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { CliProcess, runCli } from '../../helpers/cli.js';
import { startMosquitto, type Mosquitto } from '../../helpers/mosquitto.js';
import { createPki, type Pki } from '../../helpers/pki.js';
import { workspace, type Workspace } from './fixture.js';

let pki: Pki;
let broker: Mosquitto;

before(async () => {
  pki = await createPki();
  broker = await startMosquitto({ pki });
});

after(async () => {
  await broker?.cleanup();
  await pki?.cleanup();
});

function gatewayWorkspace(): Workspace {
  return workspace(({ identityDir }) => ({
    caFile: pki.ca.certPath,
    cloud: { url: broker.url, caFile: pki.ca.certPath, certFile: join(identityDir, 'cert.pem'), keyFile: join(identityDir, 'key.pem') },
  }));
}

async function provision(ws: Workspace): Promise<void> {
  const csr = await runCli(['identity', 'csr', '--config', ws.configFile]);
  const certFile = join(ws.root, 'signed.pem');
  writeFileSync(certFile, await pki.signCsr(csr.stdout, { days: 365 }));
  const imported = await runCli(['identity', 'import', '--config', ws.configFile, certFile]);
  assert.equal(imported.code, 0, imported.stderr);
}

test('fieldgate run connects to Mosquitto with the provisioned on-box identity and starts rotation', async () => {
  const ws = gatewayWorkspace();
  try {
    await provision(ws);
    const running = new CliProcess(['run', '--config', ws.configFile]);
    try {
      await running.waitForLine('"uplink connected"');
      const started = running.records().filter((r) => r.msg === 'component started').map((r) => r.component);
      assert.ok(started.includes('identity') && started.includes('uplink'), started.join(', '));
      assert.ok(started.indexOf('identity') < started.indexOf('uplink'), `identity is checked before the uplink connects: ${started.join(', ')}`);
      assert.ok(started.includes('identity-rotation'));
    } finally {
      running.child.kill('SIGTERM');
      await running.exit();
    }
  } finally {
    ws.cleanup();
  }
});

test('fieldgate run refuses to start with a key or identity folder others can read, naming the chmod', async () => {
  const ws = gatewayWorkspace();
  try {
    await provision(ws);
    const key = join(ws.identityDir, 'key.pem');
    chmodSync(key, 0o644);
    const exposedKey = await runCli(['run', '--config', ws.configFile]);
    assert.equal(exposedKey.code, 78);
    assert.equal(exposedKey.stderr, `fieldgate: private key ${key} is accessible to group or others (mode 0644); refusing to use it. Fix: chmod 600 ${key}\n`);
    assert.doesNotMatch(exposedKey.stdout, /component started/);

    chmodSync(key, 0o600);
    chmodSync(ws.identityDir, 0o755);
    const exposedDir = await runCli(['run', '--config', ws.configFile]);
    assert.equal(exposedDir.code, 78);
    assert.match(exposedDir.stderr, /Fix: chmod 700 /);
  } finally {
    ws.cleanup();
  }
});
