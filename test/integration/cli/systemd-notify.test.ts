import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { CliProcess } from '../../helpers/cli.js';
import { spawnTied } from '../../helpers/tied-spawn.js';

const CREDENTIALS_LISTENER = `
import socket, struct, sys
s = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
s.setsockopt(socket.SOL_SOCKET, socket.SO_PASSCRED, 1)
s.bind(sys.argv[1])
while True:
    data, ancillary, _, _ = s.recvmsg(4096, socket.CMSG_SPACE(12))
    pid = next(struct.unpack('iII', d[:12])[0] for level, kind, d in ancillary if kind == socket.SCM_CREDENTIALS)
    print('pid=%d' % pid)
    print(data.decode())
`;

test('under systemd the gateway reports ready, feeds the watchdog and says when it stops', async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'fieldgate-notify-'));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  const socket = join(dir, 'notify.sock');
  // A datagram socket standing in for systemd's notify socket. Like systemd with NotifyAccess=main,
  // it reads the sender's pid from the kernel (SCM_CREDENTIALS) and prints it before each message.
  const listener = spawnTied('/usr/bin/python3', ['-u', '-c', CREDENTIALS_LISTENER, socket], { stdio: ['ignore', 'pipe', 'inherit'] });
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
  assert.match(received, new RegExp(`^pid=${gateway.child.pid}\\nREADY=1`, 'm'), 'the gateway process itself sent READY (NotifyAccess=main)');
  await until('WATCHDOG=1');

  gateway.child.kill('SIGTERM');
  assert.deepEqual(await gateway.exit(), { code: 0, signal: null });
  await until('STOPPING=1');
});
