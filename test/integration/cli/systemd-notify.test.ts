import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { CliProcess } from '../../helpers/cli.js';
import { spawnTied } from '../../helpers/tied-spawn.js';

test('under systemd the gateway reports ready, feeds the watchdog and says when it stops', async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'fieldgate-notify-'));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  const socket = join(dir, 'notify.sock');
  // A datagram socket standing in for systemd's notify socket; socat prints what arrives.
  const listener = spawnTied('socat', ['-u', `UNIX-RECV:${socket}`, 'STDOUT'], { stdio: ['ignore', 'pipe', 'inherit'] });
  t.after(() => listener.kill());
  let received = '';
  listener.stdout?.on('data', (chunk: Buffer) => (received += `${chunk.toString()}\n`));
  const file = join(dir, 'fieldgate.yaml');
  writeFileSync(file, 'gateway: { id: gw-notify, dataDir: data }\nsensors:\n  sim:\n    - { id: t1 }\nui: { enabled: false }\n');
  for (let i = 0; i < 50 && !existsSync(socket); i++) await sleep(100);

  const gateway = new CliProcess(['run', '--config', file], { NOTIFY_SOCKET: socket, WATCHDOG_USEC: '400000' });
  t.after(() => gateway.kill());
  await gateway.waitForLine('"msg":"gateway running"');
  const until = async (text: string) => {
    for (let i = 0; i < 100 && !received.includes(text); i++) await sleep(100);
    assert.ok(received.includes(text), `expected ${text} in:\n${received}`);
  };
  await until('READY=1');
  assert.match(received, /STATUS=running(?!;)/);
  assert.match(received, new RegExp(`MAINPID=${gateway.child.pid}\\b`));
  await until('WATCHDOG=1');

  gateway.child.kill('SIGTERM');
  assert.deepEqual(await gateway.exit(), { code: 0, signal: null });
  await until('STOPPING=1');
});
