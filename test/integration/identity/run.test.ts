import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { chmodSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { CliProcess, runCli } from '../../helpers/cli.js';
import { startMosquitto, type Mosquitto } from '../../helpers/mosquitto.js';
import { createPki, type Pki } from '../../helpers/pki.js';
import { workspace, type Workspace } from './fixtures.js';

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

test('fieldgate run refuses a key readable by others: identity fails with the chmod, the uplink never connects', async () => {
  const ws = gatewayWorkspace();
  try {
    await provision(ws);
    chmodSync(join(ws.identityDir, 'key.pem'), 0o644);
    const running = new CliProcess(['run', '--config', ws.configFile]);
    try {
      const failed = await running.waitForLine('"component":"identity","err"');
      assert.match(failed, /component failed to start/);
      assert.match(failed, /chmod 600/);
      const uplinkError = await running.waitForLine('"kind":"bad-credentials"');
      assert.match(uplinkError, /chmod 600/);
      assert.equal(running.lines.some((line) => line.includes('"uplink connected"')), false);
    } finally {
      running.child.kill('SIGTERM');
      await running.exit();
    }
  } finally {
    ws.cleanup();
  }
});
