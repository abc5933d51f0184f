import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createRequire } from 'node:module';
import { fileURLToPath } from 'node:url';
import { apiMethods, ipcChannel, IPC_EVENT_CHANNEL, IPC_UPLOAD_CHUNK_CHANNEL, METHOD_NAMES } from '../../../main/shared/api.js';

const PRELOAD = fileURLToPath(new URL('../../../preload/index.cjs', import.meta.url));

interface FakeElectron {
  exposed: Map<string, Record<string, (...args: unknown[]) => unknown>>;
  invoked: { channel: string; args: unknown[] }[];
  listeners: Map<string, (...args: unknown[]) => void>;
}

/** Loads the compiled preload with a stand-in for the 'electron' module, as Electron's sandbox would. */
function loadPreload(): FakeElectron {
  const fake: FakeElectron = { exposed: new Map(), invoked: [], listeners: new Map() };
  const electron = {
    contextBridge: { exposeInMainWorld: (key: string, api: Record<string, (...args: unknown[]) => unknown>) => fake.exposed.set(key, api) },
    ipcRenderer: {
      invoke: async (channel: string, ...args: unknown[]) => {
        fake.invoked.push({ channel, args });
        return { ok: true, result: channel };
      },
      on: (channel: string, listener: (...args: unknown[]) => void) => fake.listeners.set(channel, listener),
      removeListener: (channel: string) => fake.listeners.delete(channel),
    },
  };
  const require = createRequire(PRELOAD);
  const Module = require('node:module') as { _load: (request: string, ...rest: unknown[]) => unknown };
  const original = Module._load;
  Module._load = (request, ...rest) => (request === 'electron' ? electron : original(request, ...rest));
  try {
    delete require.cache[PRELOAD];
    require(PRELOAD);
  } finally {
    Module._load = original;
  }
  return fake;
}

test('the preload exposes one named function per method of the table, plus onEvent, and nothing generic', async () => {
  const fake = loadPreload();
  assert.deepEqual([...fake.exposed.keys()], ['fieldgate']);
  const api = fake.exposed.get('fieldgate')!;
  assert.deepEqual(Object.keys(api).sort(), [...METHOD_NAMES, 'onEvent'].sort());
  for (const name of METHOD_NAMES.filter((n) => !apiMethods[n].streamedBody)) {
    fake.invoked.length = 0;
    await api[name]!({ probe: name });
    assert.deepEqual(fake.invoked, [{ channel: ipcChannel(name), args: [{ probe: name }] }], name);
  }
});

test('the preload uploads a bundle in chunks after starting the call, and forwards events', async () => {
  const fake = loadPreload();
  const api = fake.exposed.get('fieldgate')!;
  const file = new Blob([new Uint8Array(2.5 * 1024 * 1024)]);
  await api.uploadBundle!({ fileName: 'x.bundle' }, file);
  const [start, ...chunks] = fake.invoked;
  assert.equal(start?.channel, ipcChannel('uploadBundle'));
  const uploadId = start?.args[1];
  assert.equal(typeof uploadId, 'string');
  assert.deepEqual(
    chunks.map((chunk) => [chunk.channel, chunk.args[0], (chunk.args[1] as Uint8Array).length, chunk.args[2]]),
    [
      [IPC_UPLOAD_CHUNK_CHANNEL, uploadId, 1024 * 1024, false],
      [IPC_UPLOAD_CHUNK_CHANNEL, uploadId, 1024 * 1024, false],
      [IPC_UPLOAD_CHUNK_CHANNEL, uploadId, 512 * 1024, true],
    ],
  );
  const received: unknown[] = [];
  const unsubscribe = api.onEvent!((event: unknown) => received.push(event)) as () => void;
  fake.listeners.get(IPC_EVENT_CHANNEL)?.({}, { type: 'session', state: 'open' });
  assert.deepEqual(received, [{ type: 'session', state: 'open' }]);
  unsubscribe();
  assert.equal(fake.listeners.has(IPC_EVENT_CHANNEL), false);
});
