import assert from 'node:assert/strict';
import { once, EventEmitter } from 'node:events';
import { mkdtempSync, rmSync } from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { createLogger } from '../../../main/log/logger.js';
import { formatNotification, SystemdNotifier, unusableNotifySocket } from '../../../main/service/systemd-notify.js';

interface ReceivingSocket extends EventEmitter {
  bind(path: string): void;
  close(): void;
}
const unixDgram = createRequire(import.meta.url)('unix-dgram') as { createSocket(type: 'unix_dgram'): ReceivingSocket };

function capturingLogger() {
  const lines: Record<string, unknown>[] = [];
  return { lines, log: createLogger({ destination: { write: (line: string) => lines.push(JSON.parse(line) as Record<string, unknown>) } }) };
}

/** A bound unix datagram socket standing in for systemd's notify socket; yields each datagram's text. */
function notifySocket(t: { after: (fn: () => void) => void }) {
  const dir = mkdtempSync(join(tmpdir(), 'fieldgate-notify-'));
  const path = join(dir, 'notify');
  const socket = unixDgram.createSocket('unix_dgram');
  const messages: string[] = [];
  const arrived = new EventEmitter();
  socket.on('message', (buf: Buffer) => {
    messages.push(buf.toString('utf8'));
    arrived.emit('message');
  });
  socket.bind(path);
  t.after(() => {
    socket.close();
    rmSync(dir, { recursive: true, force: true });
  });
  const next = async (predicate: (text: string) => boolean): Promise<string> => {
    for (;;) {
      const found = messages.find(predicate);
      if (found !== undefined) return found;
      await once(arrived, 'message');
    }
  };
  return { path, messages, next };
}

test('formatNotification writes one KEY=value line per field and cannot be made to inject a line', () => {
  assert.equal(formatNotification({ READY: '1', STATUS: 'running' }).toString(), 'READY=1\nSTATUS=running\n');
  assert.equal(formatNotification({ STATUS: 'failed: a\nREADY=1\r\nb' }).toString(), 'STATUS=failed: a READY=1 b\n');
  assert.equal(formatNotification({ STATUS: undefined, WATCHDOG: '1' }).toString(), 'WATCHDOG=1\n');
});

test('unusableNotifySocket accepts absolute paths and names why abstract and relative ones cannot be used', () => {
  assert.equal(unusableNotifySocket('/run/systemd/notify'), undefined);
  assert.match(unusableNotifySocket('@/org/freedesktop/systemd1/notify/123') ?? '', /abstract socket/);
  assert.match(unusableNotifySocket('run/notify') ?? '', /not an absolute socket path/);
});

test('the notifier sends READY with STATUS, feeds the watchdog and says STOPPING over the notify socket', async (t) => {
  const socket = notifySocket(t);
  const { log } = capturingLogger();
  // 20 ms watchdog period: a ping every 10 ms, so the test does not wait long for one.
  const notifier = new SystemdNotifier({ env: { NOTIFY_SOCKET: socket.path, WATCHDOG_USEC: '20000' }, log });
  notifier.ready('running; failed: ble');
  assert.equal(await socket.next((m) => m.startsWith('READY=1')), 'READY=1\nSTATUS=running; failed: ble\n');
  assert.equal(await socket.next((m) => m === 'WATCHDOG=1\n'), 'WATCHDOG=1\n');
  notifier.stopping();
  await socket.next((m) => m === 'STOPPING=1\n');
  const afterStop = socket.messages.length;
  // No ping after STOPPING: one more datagram sent by a second notifier arrives alone.
  const probe = new SystemdNotifier({ env: { NOTIFY_SOCKET: socket.path }, log });
  probe.ready('probe');
  await socket.next((m) => m.includes('STATUS=probe'));
  probe.stopping();
  await socket.next((m) => m === 'STOPPING=1\n' && socket.messages.lastIndexOf(m) > afterStop);
  assert.deepEqual(socket.messages.slice(afterStop), ['READY=1\nSTATUS=probe\n', 'STOPPING=1\n']);
});

test('an abstract NOTIFY_SOCKET is reported once as an error naming the reason, and nothing throws', () => {
  const { lines, log } = capturingLogger();
  const notifier = new SystemdNotifier({ env: { NOTIFY_SOCKET: '@/org/freedesktop/systemd1/notify/1' }, log });
  notifier.ready('running');
  notifier.stopping();
  const errors = lines.filter((line) => line.level === 'error');
  assert.equal(errors.length, 1);
  assert.match(String(errors[0]?.problem), /abstract socket/);
});

test('outside systemd (no NOTIFY_SOCKET) the notifier does nothing and logs nothing', () => {
  const { lines, log } = capturingLogger();
  const notifier = new SystemdNotifier({ env: {}, log });
  assert.equal(notifier.enabled, false);
  notifier.ready('running');
  notifier.stopping();
  assert.deepEqual(lines, []);
});
