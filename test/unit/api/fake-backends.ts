// In-memory backends for transport tests: every area answers with a valid result and records the
// call, so the tests see exactly what crossed HTTP or IPC. The real services have their own tests.
import type { ApiBackends, EventPublisher } from '../../../main/api/backends.js';
import { ApiError, type GatewayStatus, type MethodName } from '../../../main/shared/api.js';

export const STATUS: GatewayStatus = {
  gatewayId: 'gw-fake',
  version: '0.0.0-test',
  startedAt: '2026-01-01T00:00:00.000Z',
  components: [{ name: 'buffer', state: 'running' }],
  sensors: [{ sensorId: 'ble-1', source: 'ble', online: true, lastSeen: 1_767_225_600_000, rate: 0.2, rssi: -61 }],
  buffer: { depth: 4, bytes: 400, inFlight: 0, oldestUnsentAgeMs: 2500, drops: { capacity: 0, ttl: 0, 'io-error': 0, refused: 0 }, pendingDropRecords: 0 },
  uplink: {
    state: 'waiting',
    broker: 'mqtts://broker.example:8883',
    gatewayId: 'gw-fake',
    protocolVersion: 5,
    connectedSince: null,
    nextAttemptAt: '2026-01-01T00:00:05.000Z',
    lastError: { kind: 'unknown-ca', message: 'the broker certificate is not from caFile', at: '2026-01-01T00:00:01.000Z', hint: 'upload the broker CA' },
    errors: { 'unknown-ca': 3 },
    inFlightMessages: 0,
    readingsSent: 0,
    certificate: { commonName: 'gw-fake', validTo: '2027-01-01T00:00:00.000Z' },
  },
  identity: { managed: 'on-box', subject: 'CN=gw-fake', notAfter: '2027-01-01T00:00:00.000Z', daysLeft: 365, validity: 'valid' },
  alerts: {
    active: [{ key: 'disk-low:disk', kind: 'disk-low', subject: 'disk', severity: 'critical', message: 'only 1000 B free', raisedAt: '2026-01-01T00:00:00.000Z', clearedAt: null }],
    counts: { info: 0, warning: 0, critical: 1 },
  },
};

const AT = '2026-01-01T00:00:00.000Z';
const IDENTITY = {
  managed: 'on-box' as const,
  status: 'ok',
  certificate: {
    subject: 'CN=gw-fake',
    issuer: 'CN=ca',
    serial: '01',
    notBefore: AT,
    notAfter: '2027-01-01T00:00:00.000Z',
    daysLeft: 365,
    validity: 'valid' as const,
    subjectAltNames: [],
    fingerprint256: 'AA:BB',
  },
  certFile: '/var/lib/fieldgate/identity/cert.pem',
};

export interface FakeBackends {
  backends: ApiBackends;
  calls: { method: string; input: unknown }[];
  /** Bytes the OTA backend received for the last upload. */
  uploaded: Uint8Array[];
}

export function fakeBackends(events: () => EventPublisher): FakeBackends {
  const calls: { method: string; input: unknown }[] = [];
  const uploaded: Uint8Array[] = [];
  const record = <R>(method: string, result: R) => (input?: unknown): R => {
    calls.push({ method, input });
    return result;
  };
  const written = { version: 'v2' };
  const backends: ApiBackends = {
    status: { gatewayId: 'gw-fake', version: '0.0.0-test', keyStore: { kind: 'file', hardwareBacked: false, extractable: true }, status: record('status', STATUS) },
    values: { values: record('values', { sensors: [{ sensorId: 'ble-1', values: [{ quantity: 'temperature', value: 21.5, unit: '°C', at: AT }] }] }) },
    history: { history: record('history', { stepSeconds: 60, points: [{ at: AT, rate: 0.2, bufferDepth: 4 }] }) },
    alerts: { alerts: record('alerts', { active: [{ key: 'uplink:unknown-ca', kind: 'unknown-ca', subject: 'uplink', severity: 'critical' as const, message: 'm', raisedAt: AT, clearedAt: null }], recent: [] }) },
    logs: { query: record('logs', { entries: [{ id: 1, time: AT, level: 'info' as const, namespace: 'api', message: 'hello', fields: {} }] }) },
    config: {
      read: record('config', { version: 'v1', file: '/etc/fieldgate/fieldgate.yaml', config: { gateway: { id: 'gw-fake' } } }),
      schema: record('schema', { schema: { type: 'object' } }),
      cloud: record('cloud', { settings: null }),
    },
    configWrites: {
      update: (input) => {
        calls.push({ method: 'updateConfig', input });
        if (input.version !== 'v1') throw new ApiError('conflict', 'the config changed since you read it', { currentVersion: 'v1', hint: 'reload and edit again' });
        return written;
      },
      addSensor: record('addSensor', written),
      updateSensor: record('updateSensor', written),
      removeSensor: record('removeSensor', written),
      saveCloud: record('saveCloud', written),
    },
    serial: {
      ports: record('serialPorts', { ports: [{ path: '/dev/ttyUSB0', byId: ['/dev/serial/by-id/usb-FTDI-if00'], vendorId: '0403', usedBy: [] }] }),
      startPreview: (input) => {
        calls.push({ method: 'startSerialPreview', input });
        events().publish({ type: 'serial-preview', previewId: 'p1', raw: '{"t":1}', at: AT, result: { ok: false, reason: 'unknown-field', message: 'no mapping for t' } });
        return { previewId: 'p1', deadline: AT };
      },
      stopPreview: record('stopSerialPreview', { ok: true as const }),
    },
    ble: {
      startPairing: (input) => {
        calls.push({ method: 'startPairing', input });
        events().publish({ type: 'pairing-nearby', sessionId: 's1', devices: [] });
        return { sessionId: 's1', deadline: AT };
      },
      stopPairing: record('stopPairing', { ok: true as const }),
      nearby: record('nearbyDevices', { devices: [] }),
      addSensor: (input) => {
        calls.push({ method: 'addBleSensor', input });
        if (input.bindKey === '00000000000000000000000000000000') throw new ApiError('bad-request', 'the bind key does not decrypt the latest advertisement', { field: 'bindKey' });
        return written;
      },
      removeSensor: record('removeBleSensor', written),
    },
    cloud: {
      test: record('testCloud', { ok: false as const, kind: 'unknown-ca' as const, message: 'the broker certificate is not from caFile', hint: 'upload the CA' }),
      uploadCa: record('uploadCa', { caFile: '/var/lib/fieldgate/cloud/ca.pem', subjects: ['CN=ca'] }),
    },
    identity: {
      identity: record('identity', IDENTITY),
      createCsr: record('createCsr', { pem: '-----BEGIN CERTIFICATE REQUEST-----', fileName: 'gw-fake.csr', subject: 'CN=gw-fake' }),
      importCertificate: record('importCertificate', IDENTITY),
      rotateNow: record('rotateNow', { requestId: 'r1' }),
    },
    ota: {
      status: record('otaStatus', { current: { version: '1.0.0', installedAt: null }, previous: null, staged: null, installing: null, canRollback: false }),
      upload: async (body, input) => {
        calls.push({ method: 'uploadBundle', input });
        uploaded.length = 0;
        let bytes = 0;
        for await (const chunk of body) {
          uploaded.push(chunk);
          bytes += chunk.length;
        }
        return { bundleId: 'b1', bytes, sha256: 'ff', receivedAt: AT };
      },
      verify: record('verifyBundle', { ok: false as const, bundleId: 'b1', reason: 'bad-signature', message: 'no trusted key signed it' }),
      install: (input) => {
        calls.push({ method: 'installBundle', input });
        events().publish({ type: 'ota-progress', bundleId: input.bundleId, phase: 'staging', bytesDone: 1, bytesTotal: 2 });
        return { bundleId: input.bundleId, started: true as const };
      },
      rollback: record('rollback', { version: '0.9.0' }),
    },
  };
  return { backends, calls, uploaded };
}

/** A valid input for every method (the tests call each one). */
export const SAMPLE_INPUTS = {
  setupState: {},
  completeSetup: { code: 'WRONG-CODE', password: 'a long enough passphrase' },
  login: { username: 'admin', password: 'wrong password here' },
  logout: {},
  session: {},
  changePassword: { currentPassword: 'x', newPassword: 'another long passphrase' },
  users: {},
  addUser: { username: 'tech', role: 'technician', password: 'solder flux and a multimeter' },
  removeUser: { username: 'nobody' },
  resetPassword: { username: 'nobody', password: 'another long passphrase' },
  about: {},
  status: {},
  values: {},
  history: { windowSeconds: 600 },
  alerts: {},
  serialPorts: {},
  startSerialPreview: { entry: { port: '/dev/ttyUSB0', format: 'jsonl' } },
  stopSerialPreview: { previewId: 'p1' },
  addSensor: { sensor: { kind: 'sim', entry: { id: 'sim-b', rate: 1, quantities: ['temperature'] } } },
  updateSensor: { ref: { kind: 'sim', id: 'sim-b' }, sensor: { kind: 'sim', entry: { id: 'sim-b', rate: 2, quantities: ['temperature'] } } },
  removeSensor: { ref: { kind: 'serial', port: '/dev/ttyUSB0' } },
  startPairing: { durationSeconds: 60 },
  stopPairing: { sessionId: 's1' },
  nearbyDevices: { sessionId: 's1' },
  addBleSensor: { mac: 'C4:7C:8D:6A:3E:01', id: 'ble-2', bindKey: '0123456789abcdef0123456789abcdef' },
  removeBleSensor: { id: 'ble-2' },
  cloud: {},
  testCloud: { settings: { url: 'mqtts://broker.example:8883', caFile: '/etc/fieldgate/ca.pem' } },
  saveCloud: { settings: { url: 'mqtts://broker.example:8883', caFile: '/etc/fieldgate/ca.pem' } },
  uploadCa: { pem: '-----BEGIN CERTIFICATE-----' },
  identity: {},
  createCsr: {},
  importCertificate: { pem: '-----BEGIN CERTIFICATE-----' },
  rotateNow: {},
  otaStatus: {},
  uploadBundle: { fileName: 'fieldgate-1.1.0.bundle' },
  verifyBundle: { bundleId: 'b1' },
  installBundle: { bundleId: 'b1' },
  rollback: {},
  logs: { level: 'info', text: 'hello', limit: 10 },
  config: {},
  schema: {},
  updateConfig: { patch: { log: { level: 'debug' } }, version: 'v1' },
} as const;

/** What each sample call answers for a signed-in admin (the fake backends accept everything else). */
export const EXPECTED_STATUS: Partial<Record<MethodName, number>> = {
  completeSetup: 409, // setup is done
  login: 401, // a wrong password on purpose
  changePassword: 403, // wrong current password
  removeUser: 404,
  resetPassword: 404,
};
