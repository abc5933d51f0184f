// The renderer's only door to the gateway: one named function per API method (the list is
// checked against the method table by test/unit/electron/preload.test.ts), nothing generic.
// Sandboxed preloads can load nothing but 'electron', so channels are written out here.
import { contextBridge, ipcRenderer, type IpcRendererEvent } from 'electron';

const CHUNK_BYTES = 1024 * 1024;

function call(channel: string, input: unknown): Promise<unknown> {
  return ipcRenderer.invoke(channel, input ?? {});
}

async function uploadBundle(input: unknown, file: Blob): Promise<unknown> {
  const uploadId = crypto.randomUUID();
  const reply = ipcRenderer.invoke('fieldgate:uploadBundle', input ?? {}, uploadId);
  for (let offset = 0; ; offset += CHUNK_BYTES) {
    const bytes = new Uint8Array(await file.slice(offset, offset + CHUNK_BYTES).arrayBuffer());
    const last = offset + CHUNK_BYTES >= file.size;
    const sent = (await ipcRenderer.invoke('fieldgate:uploadBundle:chunk', uploadId, bytes, last)) as { ok: boolean };
    if (!sent.ok || last) break;
  }
  return reply;
}

function onEvent(listener: (event: unknown) => void): () => void {
  const forward = (_event: IpcRendererEvent, payload: unknown) => listener(payload);
  ipcRenderer.on('fieldgate:event', forward);
  return () => void ipcRenderer.removeListener('fieldgate:event', forward);
}

contextBridge.exposeInMainWorld('fieldgate', {
  setupState: (input?: unknown) => call('fieldgate:setupState', input),
  completeSetup: (input?: unknown) => call('fieldgate:completeSetup', input),
  login: (input?: unknown) => call('fieldgate:login', input),
  logout: (input?: unknown) => call('fieldgate:logout', input),
  session: (input?: unknown) => call('fieldgate:session', input),
  changePassword: (input?: unknown) => call('fieldgate:changePassword', input),
  users: (input?: unknown) => call('fieldgate:users', input),
  addUser: (input?: unknown) => call('fieldgate:addUser', input),
  removeUser: (input?: unknown) => call('fieldgate:removeUser', input),
  resetPassword: (input?: unknown) => call('fieldgate:resetPassword', input),
  about: (input?: unknown) => call('fieldgate:about', input),
  status: (input?: unknown) => call('fieldgate:status', input),
  values: (input?: unknown) => call('fieldgate:values', input),
  history: (input?: unknown) => call('fieldgate:history', input),
  alerts: (input?: unknown) => call('fieldgate:alerts', input),
  serialPorts: (input?: unknown) => call('fieldgate:serialPorts', input),
  startSerialPreview: (input?: unknown) => call('fieldgate:startSerialPreview', input),
  stopSerialPreview: (input?: unknown) => call('fieldgate:stopSerialPreview', input),
  addSensor: (input?: unknown) => call('fieldgate:addSensor', input),
  updateSensor: (input?: unknown) => call('fieldgate:updateSensor', input),
  removeSensor: (input?: unknown) => call('fieldgate:removeSensor', input),
  startPairing: (input?: unknown) => call('fieldgate:startPairing', input),
  stopPairing: (input?: unknown) => call('fieldgate:stopPairing', input),
  nearbyDevices: (input?: unknown) => call('fieldgate:nearbyDevices', input),
  addBleSensor: (input?: unknown) => call('fieldgate:addBleSensor', input),
  removeBleSensor: (input?: unknown) => call('fieldgate:removeBleSensor', input),
  cloud: (input?: unknown) => call('fieldgate:cloud', input),
  testCloud: (input?: unknown) => call('fieldgate:testCloud', input),
  saveCloud: (input?: unknown) => call('fieldgate:saveCloud', input),
  uploadCa: (input?: unknown) => call('fieldgate:uploadCa', input),
  identity: (input?: unknown) => call('fieldgate:identity', input),
  createCsr: (input?: unknown) => call('fieldgate:createCsr', input),
  importCertificate: (input?: unknown) => call('fieldgate:importCertificate', input),
  rotateNow: (input?: unknown) => call('fieldgate:rotateNow', input),
  otaStatus: (input?: unknown) => call('fieldgate:otaStatus', input),
  verifyBundle: (input?: unknown) => call('fieldgate:verifyBundle', input),
  installBundle: (input?: unknown) => call('fieldgate:installBundle', input),
  rollback: (input?: unknown) => call('fieldgate:rollback', input),
  logs: (input?: unknown) => call('fieldgate:logs', input),
  config: (input?: unknown) => call('fieldgate:config', input),
  schema: (input?: unknown) => call('fieldgate:schema', input),
  updateConfig: (input?: unknown) => call('fieldgate:updateConfig', input),
  uploadBundle,
  onEvent,
});
