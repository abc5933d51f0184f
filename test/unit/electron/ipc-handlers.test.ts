import { test, type TestContext } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ControlApi } from '../../../main/api/control-api.js';
import { apiDataDir } from '../../../main/config/location.js';
import { readSetupCode } from '../../../main/api/setup-code.js';
import { createIpcHandlers, type IpcSender } from '../../../main/electron/ipc-handlers.js';
import { silentLogger } from '../../../main/log/logger.js';
import { createMetricsRegistry } from '../../../main/metrics/registry.js';
import { apiErrorBodySchema, apiMethods, ipcChannel, IPC_UPLOAD_CHUNK_CHANNEL, METHOD_NAMES, type IpcReply } from '../../../main/shared/api.js';
import { uiSchema } from '../../../main/shared/config/gateway.js';
import { EXPECTED_STATUS, fakeBackends, SAMPLE_INPUTS } from '../api/fake-backends.js';

const ORIGIN = 'http://127.0.0.1:8080';
const WINDOW: IpcSender = { id: 1, frame: { url: `${ORIGIN}/#/sensors`, isMainFrame: true } };
const PASSWORD = 'correct horse battery staple';

async function setup(t: TestContext, localWindow: 'login' | 'trusted' = 'login') {
  const dataDir = mkdtempSync(join(tmpdir(), 'fieldgate-ipc-'));
  t.after(() => rmSync(dataDir, { recursive: true, force: true }));
  const holder: { control?: ControlApi } = {};
  const fake = fakeBackends(() => holder.control!.events);
  const control = new ControlApi({ backends: fake.backends, ui: uiSchema.parse({}), dataDir, metrics: createMetricsRegistry({ processMetrics: false }), log: silentLogger, now: () => Date.now() });
  holder.control = control;
  await control.start();
  t.after(() => control.stop());
  const table = createIpcHandlers({ control, uiOrigin: ORIGIN, localWindow });
  const invoke = async (channel: string, sender: IpcSender, ...args: unknown[]): Promise<IpcReply<unknown>> => {
    const handler = table.handlers.get(channel);
    assert.ok(handler, `no handler for ${channel}`);
    return handler(sender, args);
  };
  const code = () => readSetupCode(apiDataDir(dataDir), Date.now())!.code;
  return { control, fake, table, invoke, code };
}

test('the IPC channels are exactly the method table plus the upload chunk channel', async (t) => {
  const { table } = await setup(t);
  assert.deepEqual([...table.handlers.keys()].sort(), [...METHOD_NAMES.map(ipcChannel), IPC_UPLOAD_CHUNK_CHANNEL].sort());
});

test('every method works through the IPC handler table, with the same answers as HTTP', async (t) => {
  const { invoke, code, fake } = await setup(t);
  const setupReply = await invoke(ipcChannel('completeSetup'), WINDOW, { code: code(), password: PASSWORD });
  assert.equal(setupReply.ok, true, JSON.stringify(setupReply));
  const order = [...METHOD_NAMES.filter((name) => name !== 'logout' && name !== 'uploadBundle'), 'logout' as const];
  for (const name of order) {
    const reply = await invoke(ipcChannel(name), WINDOW, SAMPLE_INPUTS[name]);
    const expected = EXPECTED_STATUS[name] ?? 200;
    if (expected === 200) {
      assert.ok(reply.ok, `${name}: ${JSON.stringify(reply)}`);
      assert.ok(apiMethods[name].result.safeParse(reply.result).success, name);
    } else {
      assert.ok(!reply.ok, name);
      assert.ok(apiErrorBodySchema.safeParse(reply.error).success, name);
    }
  }
  assert.ok(fake.calls.some((call) => call.method === 'updateConfig'));
  const afterLogout = await invoke(ipcChannel('status'), WINDOW, {});
  assert.deepEqual(afterLogout.ok ? undefined : afterLogout.error.error, 'unauthorized');
});

test('the box window sees the setup code over IPC (HTTP never does)', async (t) => {
  const { invoke, code } = await setup(t);
  const reply = await invoke(ipcChannel('setupState'), WINDOW, {});
  assert.ok(reply.ok);
  assert.equal((reply.result as { code?: string }).code, code());
});

test('IPC checks the sender frame, the schema and the role', async (t) => {
  const { invoke, code, control } = await setup(t);
  const iframe: IpcSender = { id: 1, frame: { url: `${ORIGIN}/`, isMainFrame: false } };
  const foreign: IpcSender = { id: 1, frame: { url: 'https://evil.example/', isMainFrame: true } };
  for (const sender of [iframe, foreign, { id: 1, frame: null }]) {
    const reply = await invoke(ipcChannel('setupState'), sender, {});
    assert.deepEqual(reply.ok ? 'answered' : reply.error.error, 'forbidden');
  }
  const anonymous = await invoke(ipcChannel('status'), WINDOW, {});
  assert.equal(anonymous.ok ? 'answered' : anonymous.error.error, 'unauthorized');
  await invoke(ipcChannel('completeSetup'), WINDOW, { code: code(), password: PASSWORD });
  const badInput = await invoke(ipcChannel('history'), WINDOW, { windowSeconds: 'an hour' });
  assert.equal(badInput.ok ? 'answered' : badInput.error.field, 'windowSeconds');
  const extraArgument = await invoke(ipcChannel('status'), WINDOW, {}, 'extra');
  assert.equal(extraArgument.ok ? 'answered' : extraArgument.error.error, 'bad-request');

  await control.auth.addUser({ username: 'tech', role: 'technician', password: 'solder flux and a multimeter' });
  const techWindow: IpcSender = { id: 2, frame: WINDOW.frame };
  assert.ok((await invoke(ipcChannel('login'), techWindow, { username: 'tech', password: 'solder flux and a multimeter' })).ok);
  assert.ok((await invoke(ipcChannel('status'), techWindow, {})).ok);
  const refused = await invoke(ipcChannel('rotateNow'), techWindow, {});
  assert.equal(refused.ok ? 'answered' : refused.error.error, 'forbidden');
  const otherWindow: IpcSender = { id: 3, frame: WINDOW.frame };
  const notShared = await invoke(ipcChannel('status'), otherWindow, {});
  assert.equal(notShared.ok ? 'answered' : notShared.error.error, 'unauthorized', 'a session belongs to one window');
});

test('ui.localWindow: trusted opens the box window as admin without a login; login (default) does not', async (t) => {
  const trusted = await setup(t, 'trusted');
  const reply = await trusted.invoke(ipcChannel('session'), WINDOW, {});
  assert.ok(reply.ok);
  assert.deepEqual(reply.result, { ...(reply.result as object), role: 'admin', localWindow: true });
  trusted.table.forgetSender(WINDOW.id);
  const login = await setup(t, 'login');
  const refused = await login.invoke(ipcChannel('session'), WINDOW, {});
  assert.equal(refused.ok ? 'answered' : refused.error.error, 'unauthorized');
});

test('uploadBundle over IPC streams chunk by chunk into the backend', async (t) => {
  const { invoke, code, fake } = await setup(t);
  await invoke(ipcChannel('completeSetup'), WINDOW, { code: code(), password: PASSWORD });
  const pending = invoke(ipcChannel('uploadBundle'), WINDOW, { fileName: 'b.bundle' }, 'upload-0001');
  for (const [index, last] of [[0, false], [1, false], [2, true]] as const) {
    const sent = await invoke(IPC_UPLOAD_CHUNK_CHANNEL, WINDOW, 'upload-0001', new Uint8Array(1000).fill(index), last);
    assert.ok(sent.ok, JSON.stringify(sent));
  }
  const reply = await pending;
  assert.ok(reply.ok, JSON.stringify(reply));
  assert.equal((reply.result as { bytes: number }).bytes, 3000);
  assert.deepEqual(fake.uploaded.map((chunk) => chunk[0]), [0, 1, 2]);
  const late = await invoke(IPC_UPLOAD_CHUNK_CHANNEL, WINDOW, 'upload-0001', new Uint8Array(1), true);
  assert.equal(late.ok ? 'answered' : late.error.error, 'not-found');
  const tooBig = await invoke(IPC_UPLOAD_CHUNK_CHANNEL, WINDOW, 'upload-0002', new Uint8Array(1024 * 1024 + 1), true);
  assert.equal(tooBig.ok ? 'answered' : tooBig.error.error, 'bad-request');
});
