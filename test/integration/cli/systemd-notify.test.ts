import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { CliProcess } from '../../helpers/cli.js';
import { spawnTied } from '../../helpers/tied-spawn.js';

const CREDENTIALS_LISTENER = `
import json, socket, struct, sys
s = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
s.setsockopt(socket.SOL_SOCKET, socket.SO_PASSCRED, 1)
s.bind(sys.argv[1])
while True:
    data, ancillary, _, _ = s.recvmsg(4096, socket.CMSG_SPACE(12))
    pid = next(struct.unpack('iII', d[:12])[0] for level, kind, d in ancillary if kind == socket.SCM_CREDENTIALS)
    print(json.dumps({'pid': pid, 'message': data.decode()}), flush=True)
`;

interface Datagram {
  pid: number;
  message: string;
}

test('under systemd the gateway reports ready, feeds the watchdog and says when it stops', async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'fieldgate-notify-'));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  const socket = join(dir, 'notify.sock');
  // A datagram socket standing in for systemd's notify socket. Like systemd with NotifyAccess=main,
  // it reads the sender's pid from the kernel (SCM_CREDENTIALS); it prints one JSON line per datagram.
  const listener = spawnTied('/usr/bin/python3', ['-u', '-c', CREDENTIALS_LISTENER, socket], { stdio: ['ignore', 'pipe', 'inherit'] });
  t.after(() => listener.kill());
  const datagrams: Datagram[] = [];
  let pending = '';
  listener.stdout?.on('data', (chunk: Buffer) => {
    const lines = (pending + chunk.toString()).split('\n');
    pending = lines.pop() ?? '';
    for (const line of lines) datagrams.push(JSON.parse(line) as Datagram);
  });
  const file = join(dir, 'fieldgate.yaml');
  writeFileSync(file, 'gateway: { id: gw-notify, dataDir: data }\nsensors:\n  sim:\n    - { id: t1 }\nui: { enabled: false }\n');
  for (let i = 0; i < 50 && !existsSync(socket); i++) await sleep(100);

  const gateway = new CliProcess(['run', '--config', file], { NOTIFY_SOCKET: socket, WATCHDOG_USEC: '400000' });
  t.after(() => gateway.kill());
  await gateway.waitForLine('"msg":"gateway running"');
  const until = async (line: string): Promise<Datagram> => {
    const find = () => datagrams.find((datagram) => datagram.message.split('\n').includes(line));
    for (let i = 0; i < 100 && !find(); i++) await sleep(100);
    const found = find();
    assert.ok(found, `expected ${line} in:\n${JSON.stringify(datagrams, null, 2)}`);
    return found;
  };
  const ready = await until('READY=1');
  assert.equal(ready.message, 'READY=1\nSTATUS=running\n');
  assert.equal(ready.pid, gateway.child.pid, 'the gateway process itself sent READY (NotifyAccess=main)');
  await until('WATCHDOG=1');

  gateway.child.kill('SIGTERM');
  assert.deepEqual(await gateway.exit(), { code: 0, signal: null });
  await until('STOPPING=1');
});
