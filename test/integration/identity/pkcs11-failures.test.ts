import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import Database from 'better-sqlite3';
import { CliProcess } from '../../helpers/cli.js';
import { startMosquitto, type Mosquitto } from '../../helpers/mosquitto.js';
import { createPki, type Pki } from '../../helpers/pki.js';
import { createSoftHsm, type SoftHsm } from '../../helpers/softhsm.js';
import { type Workspace, provisionInToken, tokenWorkspace } from './fixture.js';

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

/** Read after the gateway stopped: the buffer holds its database exclusively while it runs. */
function bufferedReadings(ws: Workspace): { count: number; newestAt: number } {
  const db = new Database(join(ws.dataDir, 'buffer.db'), { readonly: true, fileMustExist: true });
  try {
    const row = db.prepare('SELECT count(*) AS count, max(at) AS newestAt FROM readings').get() as { count: number; newestAt: number | null };
    return { count: row.count, newestAt: row.newestAt ?? 0 };
  } finally {
    db.close();
  }
}

interface Case {
  name: string;
  /** Breaks a provisioned gateway's token access the way the field does. */
  breakIt(ws: Workspace, hsm: SoftHsm): void;
  fix: RegExp;
}

const CASES: Case[] = [
  {
    name: 'wrong PIN',
    breakIt: (_ws, hsm) => writeFileSync(hsm.pinFile, `${hsm.pin}9`, { mode: 0o600 }),
    fix: /refused the PIN in identity\.pkcs11\.pinFile ".*": correct the file/,
  },
  {
    name: 'missing token',
    breakIt: (_ws, hsm) => execFileSync('softhsm2-util', ['--delete-token', '--token', hsm.label], { env: { ...process.env, ...hsm.env }, stdio: 'ignore' }),
    fix: /the device key is not in token "fg-test", or the token is not present: plug the token in/,
  },
  {
    name: 'bogus module path',
    breakIt: (ws) => {
      const config = JSON.parse(readFileSync(ws.configFile, 'utf8')) as { identity: { pkcs11: { module: string } } };
      config.identity.pkcs11.module = '/usr/lib/nonexistent/libpkcs11-bogus.so';
      writeFileSync(ws.configFile, JSON.stringify(config, null, 2));
    },
    fix: /identity\.pkcs11\.module "\/usr\/lib\/nonexistent\/libpkcs11-bogus\.so" does not exist: install the token's PKCS#11 library/,
  },
];

const OBSERVE_MS = 30_000;

test('wrong PIN, missing token, bogus module: each is hardware-key-unavailable with its fix, tried once in 30 s (not a tight loop), alerted, and readings keep buffering', async () => {
  const rigs = await Promise.all(
    CASES.map(async (entry) => {
      const hsm = await createSoftHsm({ label: 'fg-test' });
      const ws = tokenWorkspace({ hsm, broker, brokerCaFile: pki.ca.certPath });
      await provisionInToken(ws, hsm, pki);
      entry.breakIt(ws, hsm);
      return { entry, hsm, ws, gateway: new CliProcess(['run', '--config', ws.configFile], hsm.env) };
    }),
  );
  try {
    await Promise.all(rigs.map(({ gateway }) => gateway.waitForLine('"hardware-key-unavailable"')));
    const failedAt = Date.now();
    await sleep(OBSERVE_MS);
    for (const { gateway } of rigs) {
      gateway.child.kill('SIGTERM');
      await gateway.exit();
    }
    for (const { entry, ws, gateway } of rigs) {
      const records = gateway.records();
      const failures = records.filter((r) => r.kind !== undefined && String(r.msg).startsWith('uplink: '));
      assert.deepEqual(failures.map((r) => r.kind), ['hardware-key-unavailable'], `${entry.name}: one attempt in ${OBSERVE_MS / 1000} s, then the uplink waits (log: ${gateway.lines.join('\n')})`);
      assert.match(String(failures[0]?.msg), entry.fix, entry.name);
      assert.match(String(failures[0]?.msg), /fieldgate leaves the token alone until \d{4}-\d\d-\d\dT.* \(restart the service to try at once\)/);
      const retry = records.find((r) => r.msg === 'uplink will retry');
      assert.ok(Number(retry?.retryInMs) >= 14 * 60_000, `${entry.name}: the next attempt waits identity.pkcs11.retryIntervalMs (${String(retry?.retryInMs)} ms)`);
      assert.ok(records.some((r) => r.alert === 'hardware-key-unavailable:identity' && r.event === 'raise'), `${entry.name}: alert raised`);
      const buffered = bufferedReadings(ws);
      assert.ok(buffered.count > 0 && buffered.newestAt > failedAt, `${entry.name}: readings kept buffering after the failure (${buffered.count}, newest ${new Date(buffered.newestAt).toISOString()})`);
    }
  } finally {
    for (const { gateway, hsm, ws } of rigs) {
      if (gateway.child.exitCode === null) {
        gateway.child.kill('SIGTERM');
        await gateway.exit();
      }
      ws.cleanup();
      await hsm.cleanup();
    }
  }
});
