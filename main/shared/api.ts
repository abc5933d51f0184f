/**
 * The control API contract: one table of methods. HTTP routes, WebSocket events, Electron IPC
 * channels, the preload's functions and the renderer's client are all derived from `apiMethods`
 * (test/unit/api/contract-drift.test.ts fails when one of them drifts).
 *
 * Transport rules (also in the README, "Setup UI and control API"):
 * - a method that does not change state is `GET /api/<path>`; its input, if any, is the JSON in
 *   the `input` query parameter (`/api/history?input={"windowSeconds":600}`);
 * - a method that changes state is `POST /api/<path>` with a JSON body (needs a matching Origin
 *   and the CSRF token when called with a session cookie);
 * - `uploadBundle` is `POST /api/ota/bundle` with the raw bundle as an `application/octet-stream`
 *   body, streamed to staging; over IPC the preload sends it in chunks (`ipcUploadChunk`);
 * - every failure answers `ApiErrorBody` with the HTTP status of its kind (`API_ERROR_STATUS`).
 *
 * No `node:*` imports here: the renderer imports this file.
 */
import { z } from 'zod';
import { cloudSchema } from './config/cloud.js';
import { simSensorSchema } from './config/sim.js';
import { UPLINK_ERROR_KINDS } from './uplink-error-kinds.js';

// ---------------------------------------------------------------- roles and errors

export const ROLES = ['technician', 'admin'] as const;
export const roleSchema = z.enum(ROLES);
export type Role = z.infer<typeof roleSchema>;
/** Who may call a method: `public` needs no session; `technician` is any signed-in user. */
export type Access = 'public' | Role;

/** True when `role` may call a method needing `access` (admin includes technician). */
export function roleAllows(role: Role | undefined, access: Access): boolean {
  if (access === 'public') return true;
  if (role === undefined) return false;
  return access === 'technician' || role === 'admin';
}

export const API_ERROR_STATUS = {
  'bad-request': 400,
  unauthorized: 401,
  forbidden: 403,
  'not-found': 404,
  conflict: 409,
  'too-large': 413,
  misdirected: 421,
  locked: 429,
  unavailable: 503,
  internal: 500,
} as const;
export type ApiErrorKind = keyof typeof API_ERROR_STATUS;
export const apiErrorKindSchema = z.enum(Object.keys(API_ERROR_STATUS) as [ApiErrorKind, ...ApiErrorKind[]]);

export const apiErrorBodySchema = z.object({
  error: apiErrorKindSchema,
  message: z.string(),
  /** The input or config key the error is about, dotted (`sensors.serial.0.baudRate`). */
  field: z.string().optional(),
  /** What to do about it. */
  hint: z.string().optional(),
  /** `bad-request`: every schema problem with its path. */
  issues: z.array(z.object({ path: z.string(), message: z.string() })).optional(),
  /** `locked`: seconds until the next attempt is accepted. */
  retryAfterSeconds: z.number().int().min(0).optional(),
  /** `conflict` on a config write: the version the file has now. */
  currentVersion: z.string().optional(),
});
export type ApiErrorBody = z.infer<typeof apiErrorBodySchema>;

/** Thrown by handlers and backends; the transports turn it into `ApiErrorBody` and its status. */
export class ApiError extends Error {
  constructor(
    readonly kind: ApiErrorKind,
    message: string,
    readonly details: Omit<ApiErrorBody, 'error' | 'message'> = {},
  ) {
    super(message);
    this.name = 'ApiError';
  }

  get status(): number {
    return API_ERROR_STATUS[this.kind];
  }

  toBody(): ApiErrorBody {
    return { error: this.kind, message: this.message, ...this.details };
  }
}

// ---------------------------------------------------------------- shared shapes

const isoTime = z.string().describe('ISO-8601 UTC time');
const empty = z.strictObject({});
const sensorId = z.string().min(1).max(64);
const versionToken = z.string().min(1).describe('config version, from `config`; a stale one gets 409');
const ok = z.object({ ok: z.literal(true) });

export const sessionInfoSchema = z.object({
  username: z.string(),
  role: roleSchema,
  /** Idle expiry: moves forward with every request. */
  idleExpiresAt: isoTime,
  /** Absolute expiry: the session ends then whatever happens. */
  expiresAt: isoTime,
  /** Send as `x-fieldgate-csrf` on state-changing HTTP calls (also in the `fieldgate_csrf` cookie). */
  csrfToken: z.string(),
  /** True in the box's own window with `ui.localWindow: trusted` (no login needed). */
  localWindow: z.boolean(),
});
export type SessionInfo = z.infer<typeof sessionInfoSchema>;

const username = z.string().regex(/^[a-z][a-z0-9._-]{1,31}$/, { error: 'expected 2-32 characters: lowercase letters, digits, . _ - (starting with a letter)' });
/** Length only; the common-password list is checked on the server (main/api/passwords.ts). */
export const PASSWORD_MIN_LENGTH = 12;
const newPassword = z
  .string()
  .min(PASSWORD_MIN_LENGTH, { error: `expected at least ${PASSWORD_MIN_LENGTH} characters` })
  .max(256, { error: 'expected at most 256 characters' });
const password = z.string().min(1).max(256);

export const userSchema = z.object({ username: z.string(), role: roleSchema, createdAt: isoTime });
export type User = z.infer<typeof userSchema>;

export const componentHealthSchema = z.object({
  name: z.string(),
  state: z.enum(['idle', 'starting', 'running', 'failed', 'stopping', 'stopped']),
  error: z.string().optional(),
});

export const sensorStatusSchema = z.object({
  sensorId: z.string(),
  source: z.string().describe('sim, serial, modbus-tcp or ble'),
  online: z.boolean(),
  /** Milliseconds since the epoch, or null when nothing was received yet. */
  lastSeen: z.number().nullable(),
  /** Samples per second over the recent window. */
  rate: z.number(),
  /** BLE only: the last advertisement's signal strength in dBm. */
  rssi: z.number().nullable().optional(),
  /** Serial only: the port entry (`sensors.serial[].id`) that reads it; `removeSensor` takes it. */
  port: z.string().optional(),
  /** Modbus TCP only: the server entry (`sensors.modbusTcp[].id`) that polls it. */
  server: z.string().optional(),
});
export type SensorStatusView = z.infer<typeof sensorStatusSchema>;

export const bufferStatusSchema = z.object({
  depth: z.number().int(),
  bytes: z.number(),
  inFlight: z.number().int(),
  oldestUnsentAgeMs: z.number().nullable(),
  drops: z.object({ capacity: z.number(), ttl: z.number(), 'io-error': z.number(), refused: z.number() }),
  pendingDropRecords: z.number().int(),
});
export type BufferStatus = z.infer<typeof bufferStatusSchema>;

export { UPLINK_ERROR_KINDS };
export const uplinkErrorKindSchema = z.enum(UPLINK_ERROR_KINDS);

export const uplinkStatusSchema = z.object({
  state: z.enum(['stopped', 'connecting', 'connected', 'waiting']),
  broker: z.string(),
  gatewayId: z.string(),
  protocolVersion: z.union([z.literal(4), z.literal(5)]),
  connectedSince: isoTime.nullable(),
  nextAttemptAt: isoTime.nullable(),
  lastError: z.object({ kind: uplinkErrorKindSchema, message: z.string(), at: isoTime, hint: z.string().optional() }).nullable(),
  /** Failures since start, by kind. */
  errors: z.partialRecord(uplinkErrorKindSchema, z.number()),
  inFlightMessages: z.number().int(),
  readingsSent: z.number().int(),
  certificate: z.object({ commonName: z.string().nullable(), validTo: isoTime.nullable() }).nullable(),
});
export type UplinkStatusView = z.infer<typeof uplinkStatusSchema>;

/** Where the device key lives (`identity.keyStore`): a file, or a PKCS#11 token it cannot leave. */
export const keyStoreSchema = z.object({
  kind: z.enum(['file', 'pkcs11']),
  hardwareBacked: z.boolean(),
  extractable: z.boolean(),
  /** The token, for `pkcs11`: `token "<label>"` or `slot N`. */
  token: z.string().optional(),
});
export type KeyStoreView = z.infer<typeof keyStoreSchema>;

export const identitySummarySchema = z.object({
  managed: z.enum(['on-box', 'external']),
  /** The on-box identity's key store; absent for an externally managed certificate. */
  keyStore: keyStoreSchema.optional(),
  subject: z.string(),
  notAfter: isoTime,
  daysLeft: z.number().int(),
  validity: z.enum(['valid', 'expired', 'not-yet-valid']),
  rotationDueAt: isoTime.optional(),
});

export const ALERT_SEVERITIES = ['info', 'warning', 'critical'] as const;
export const alertSchema = z.object({
  /** Stable per condition, `<kind>:<subject>` (`sensor-silent:t1`, `disk-low:disk`): a raise with the same key updates it. */
  key: z.string(),
  kind: z.string(),
  /** What it is about: a sensor id, `buffer`, `uplink`, `identity`, `ota`, … */
  subject: z.string(),
  severity: z.enum(ALERT_SEVERITIES),
  message: z.string(),
  hint: z.string().optional(),
  raisedAt: isoTime,
  /** Null while active. */
  clearedAt: isoTime.nullable(),
});
export type Alert = z.infer<typeof alertSchema>;

const count = z.number().int().min(0);
export const activeAlertsSchema = z.object({
  /** Active alerts in the order they were raised. */
  active: z.array(alertSchema),
  /** Active alerts by severity (as in the retained status message upstream). */
  counts: z.object({ info: count, warning: count, critical: count }),
});

export const gatewayStatusSchema = z.object({
  gatewayId: z.string(),
  version: z.string(),
  startedAt: isoTime,
  components: z.array(componentHealthSchema),
  sensors: z.array(sensorStatusSchema),
  buffer: bufferStatusSchema,
  /** Null when no cloud is configured: readings are buffered until one is. */
  uplink: uplinkStatusSchema.nullable(),
  /** Null when the gateway has no client certificate yet. */
  identity: identitySummarySchema.nullable(),
  alerts: activeAlertsSchema,
});
export type GatewayStatus = z.infer<typeof gatewayStatusSchema>;

export const measurementSchema = z.object({ quantity: z.string(), value: z.number(), unit: z.string().optional(), at: isoTime });
export const sensorValuesSchema = z.object({ sensorId: z.string(), values: z.array(measurementSchema) });
export type SensorValues = z.infer<typeof sensorValuesSchema>;

export const historyPointSchema = z.object({
  at: isoTime,
  /** Readings accepted per second in this step (all sensors, or the one asked for). */
  rate: z.number(),
  /** Buffer depth at the end of this step (gateway-wide). */
  bufferDepth: z.number().int(),
});

export const serialPortInfoSchema = z.object({
  path: z.string(),
  /** `/dev/serial/by-id/…` links to this port: stable across replugging, prefer them in config. */
  byId: z.array(z.string()),
  vendorId: z.string().optional(),
  productId: z.string().optional(),
  manufacturer: z.string().optional(),
  product: z.string().optional(),
  serialNumber: z.string().optional(),
  /** Configured sensor ids that read this port. */
  usedBy: z.array(z.string()),
});

/** A `sensors.serial` entry exactly as in the YAML; validated by the config schema, errors name the key. */
export const serialEntrySchema = z.record(z.string(), z.unknown());
export const sensorEntrySchema = z.discriminatedUnion('kind', [
  z.strictObject({ kind: z.literal('serial'), entry: serialEntrySchema }),
  z.strictObject({ kind: z.literal('sim'), entry: simSensorSchema }),
  /** A `sensors.modbusTcp` server entry as in the YAML, validated by the config schema like a serial entry. */
  z.strictObject({ kind: z.literal('modbusTcp'), entry: serialEntrySchema }),
]);
/** Serial entries are named by their port path (or id); sim entries by their sensor id; Modbus TCP entries by their server id. */
export const sensorRefSchema = z.discriminatedUnion('kind', [
  z.strictObject({ kind: z.literal('serial'), port: z.string().min(1) }),
  z.strictObject({ kind: z.literal('sim'), id: sensorId }),
  z.strictObject({ kind: z.literal('modbusTcp'), server: z.string().min(1) }),
]);

export const configWriteResultSchema = z.object({ version: z.string() });

export const nearbyDeviceSchema = z.object({
  mac: z.string(),
  name: z.string().nullable(),
  rssi: z.number(),
  /** `ruuvi`, `bthome`, … or null when no decoder knows it. */
  format: z.string().nullable(),
  encrypted: z.boolean(),
  /** What the latest advertisement decodes to (empty when encrypted without a key). */
  preview: z.array(z.object({ quantity: z.string(), value: z.number(), unit: z.string().optional() })),
  /** Configured sensor id, when already paired. */
  pairedAs: z.string().nullable(),
  lastSeen: isoTime,
});
export type NearbyDevice = z.infer<typeof nearbyDeviceSchema>;

export const cloudTestResultSchema = z.discriminatedUnion('ok', [
  z.object({ ok: z.literal(true), broker: z.string(), message: z.string() }),
  z.object({ ok: z.literal(false), kind: uplinkErrorKindSchema, message: z.string(), hint: z.string() }),
]);
export type CloudTestResult = z.infer<typeof cloudTestResultSchema>;

export const identityViewSchema = z.object({
  managed: z.enum(['on-box', 'external']),
  /** `ok`, or what is wrong and how to fix it (as `identity show`). */
  status: z.string(),
  certificate: z
    .object({
      subject: z.string(),
      issuer: z.string(),
      serial: z.string(),
      notBefore: isoTime,
      notAfter: isoTime,
      daysLeft: z.number().int(),
      validity: z.enum(['valid', 'expired', 'not-yet-valid']),
      subjectAltNames: z.array(z.string()),
      fingerprint256: z.string(),
    })
    .nullable(),
  rotationDueAt: isoTime.optional(),
  rotationPending: z.object({ requestId: z.string(), since: isoTime }).optional(),
  keyStore: keyStoreSchema.optional(),
  /** The key file, or for `pkcs11` the file naming the token object (it holds no secret). */
  keyFile: z.string().optional(),
  certFile: z.string(),
});
export type IdentityView = z.infer<typeof identityViewSchema>;

export const bundleInfoSchema = z.object({
  bundleId: z.string(),
  bytes: z.number().int(),
  sha256: z.string(),
  receivedAt: isoTime,
});
export const verifyResultSchema = z.discriminatedUnion('ok', [
  z.object({ ok: z.literal(true), bundleId: z.string(), version: z.string(), message: z.string() }),
  /** `reason` is an OTA reason code from the README (`bad-signature`, `hash-mismatch`, …). */
  z.object({ ok: z.literal(false), bundleId: z.string(), reason: z.string(), message: z.string() }),
]);
export const OTA_PHASES = ['verifying', 'staging', 'switching', 'done', 'failed'] as const;
export const otaStatusSchema = z.object({
  current: z.object({ version: z.string(), installedAt: isoTime.nullable() }),
  previous: z.object({ version: z.string() }).nullable(),
  /** The uploaded bundle waiting in staging, if any. */
  staged: bundleInfoSchema.nullable(),
  /** Set while an install runs. */
  installing: z.object({ bundleId: z.string(), phase: z.enum(OTA_PHASES) }).nullable(),
  canRollback: z.boolean(),
});

export const LOG_LEVELS = ['trace', 'debug', 'info', 'warn', 'error', 'fatal'] as const;
export const logLevelSchema = z.enum(LOG_LEVELS);
export const logEntrySchema = z.object({
  /** Monotonic per process: the live tail resumes after the last one seen. */
  id: z.number().int(),
  time: isoTime,
  level: logLevelSchema,
  namespace: z.string(),
  message: z.string(),
  /** The entry's other fields, already redacted. */
  fields: z.record(z.string(), z.unknown()),
});
export type LogEntry = z.infer<typeof logEntrySchema>;

export const aboutSchema = z.object({
  gatewayId: z.string(),
  version: z.string(),
  /** SHA-256 of the HTTPS certificate (colon-separated hex), or null over plain HTTP on loopback. */
  httpsFingerprint: z.string().nullable(),
  /** Where the device key lives. */
  keyStore: keyStoreSchema,
});

// ---------------------------------------------------------------- the method table

export interface MethodSpec<I extends z.ZodType = z.ZodType, R extends z.ZodType = z.ZodType> {
  input: I;
  result: R;
  access: Access;
  /** Changes state: POST with Origin and CSRF checks; otherwise GET. */
  mutates: boolean;
  /** HTTP path below /api/ (kebab-case; `ota/bundle` style for nested). */
  path: string;
  /** The request body is the raw stream (only `uploadBundle`); `input` then describes the query. */
  streamedBody?: true;
  /** JSON body limit over HTTP when above the default 64 KiB (PEM uploads, config patches). */
  maxBodyBytes?: number;
}

export const DEFAULT_MAX_BODY_BYTES = 64 * 1024;
const PEM_BODY_BYTES = 320 * 1024;

function method<I extends z.ZodType, R extends z.ZodType>(spec: MethodSpec<I, R>): MethodSpec<I, R> {
  return spec;
}

export const apiMethods = {
  // session
  setupState: method({
    input: empty,
    result: z.object({
      needsSetup: z.boolean(),
      codeExpiresAt: isoTime.nullable(),
      where: z.string().describe('where to find the setup code'),
      /** Only in the box's own Electron window (over IPC): the code itself, to show on its screen. */
      code: z.string().optional(),
    }),
    access: 'public',
    mutates: false,
    path: 'setup',
  }),
  completeSetup: method({
    input: z.strictObject({ code: z.string().min(1).max(64), username: username.default('admin'), password: newPassword }),
    result: sessionInfoSchema,
    access: 'public',
    mutates: true,
    path: 'setup',
  }),
  login: method({
    input: z.strictObject({ username: z.string().min(1).max(64), password }),
    result: sessionInfoSchema,
    access: 'public',
    mutates: true,
    path: 'login',
  }),
  logout: method({ input: empty, result: ok, access: 'technician', mutates: true, path: 'logout' }),
  session: method({ input: empty, result: sessionInfoSchema, access: 'technician', mutates: false, path: 'session' }),
  changePassword: method({
    input: z.strictObject({ currentPassword: password, newPassword }),
    result: ok,
    access: 'technician',
    mutates: true,
    path: 'password',
  }),
  users: method({ input: empty, result: z.object({ users: z.array(userSchema) }), access: 'admin', mutates: false, path: 'users' }),
  addUser: method({
    input: z.strictObject({ username, role: roleSchema, password: newPassword }),
    result: userSchema,
    access: 'admin',
    mutates: true,
    path: 'users/add',
  }),
  removeUser: method({ input: z.strictObject({ username: z.string().min(1) }), result: ok, access: 'admin', mutates: true, path: 'users/remove' }),
  resetPassword: method({
    input: z.strictObject({ username: z.string().min(1), password: newPassword }),
    result: ok,
    access: 'admin',
    mutates: true,
    path: 'users/reset-password',
  }),
  about: method({ input: empty, result: aboutSchema, access: 'technician', mutates: false, path: 'about' }),

  // status
  status: method({ input: empty, result: gatewayStatusSchema, access: 'technician', mutates: false, path: 'status' }),
  values: method({
    input: z.strictObject({ sensor: sensorId.optional() }),
    result: z.object({ sensors: z.array(sensorValuesSchema) }),
    access: 'technician',
    mutates: false,
    path: 'values',
  }),
  history: method({
    input: z.strictObject({ sensor: sensorId.optional(), windowSeconds: z.number().int().min(60).max(3600).default(3600) }),
    result: z.object({ stepSeconds: z.number().int(), points: z.array(historyPointSchema) }),
    access: 'technician',
    mutates: false,
    path: 'history',
  }),
  alerts: method({
    input: empty,
    result: z.object({ active: z.array(alertSchema), recent: z.array(alertSchema) }),
    access: 'technician',
    mutates: false,
    path: 'alerts',
  }),

  // serial
  serialPorts: method({ input: empty, result: z.object({ ports: z.array(serialPortInfoSchema) }), access: 'technician', mutates: false, path: 'serial/ports' }),
  startSerialPreview: method({
    input: z.strictObject({
      entry: serialEntrySchema,
      /** A configured sensor on the same port is paused for the preview (refused otherwise). */
      pauseSensors: z.boolean().default(false),
      durationSeconds: z.number().int().min(1).max(60).default(60),
    }),
    result: z.object({ previewId: z.string(), deadline: isoTime }),
    access: 'technician',
    mutates: true,
    path: 'serial/preview/start',
  }),
  stopSerialPreview: method({ input: z.strictObject({ previewId: z.string() }), result: ok, access: 'technician', mutates: true, path: 'serial/preview/stop' }),
  addSensor: method({
    input: z.strictObject({ sensor: sensorEntrySchema, version: versionToken.optional() }),
    result: configWriteResultSchema,
    access: 'technician',
    mutates: true,
    path: 'sensors/add',
  }),
  updateSensor: method({
    input: z.strictObject({ ref: sensorRefSchema, sensor: sensorEntrySchema, version: versionToken.optional() }),
    result: configWriteResultSchema,
    access: 'technician',
    mutates: true,
    path: 'sensors/update',
  }),
  removeSensor: method({
    input: z.strictObject({ ref: sensorRefSchema, version: versionToken.optional() }),
    result: configWriteResultSchema,
    access: 'technician',
    mutates: true,
    path: 'sensors/remove',
  }),

  // BLE
  startPairing: method({
    input: z.strictObject({ durationSeconds: z.number().int().min(10).max(600).default(120) }),
    result: z.object({ sessionId: z.string(), deadline: isoTime }),
    access: 'technician',
    mutates: true,
    path: 'ble/pairing/start',
  }),
  stopPairing: method({ input: z.strictObject({ sessionId: z.string() }), result: ok, access: 'technician', mutates: true, path: 'ble/pairing/stop' }),
  nearbyDevices: method({
    input: z.strictObject({ sessionId: z.string() }),
    result: z.object({ devices: z.array(nearbyDeviceSchema) }),
    access: 'technician',
    mutates: false,
    path: 'ble/nearby',
  }),
  addBleSensor: method({
    input: z.strictObject({
      mac: z.string().regex(/^[0-9A-Fa-f]{2}(:[0-9A-Fa-f]{2}){5}$/, { error: 'expected a MAC address such as C4:7C:8D:6A:3E:01' }),
      id: sensorId,
      /** 32 hex characters; refused unless it decrypts the device's latest advertisement. */
      bindKey: z.string().regex(/^[0-9A-Fa-f]{32}$/, { error: 'expected 32 hex characters' }).optional(),
      version: versionToken.optional(),
    }),
    result: configWriteResultSchema,
    access: 'technician',
    mutates: true,
    path: 'ble/sensors/add',
  }),
  removeBleSensor: method({
    input: z.strictObject({ id: sensorId, version: versionToken.optional() }),
    result: configWriteResultSchema,
    access: 'technician',
    mutates: true,
    path: 'ble/sensors/remove',
  }),

  // cloud
  cloud: method({
    input: empty,
    /** Secrets appear as file paths only. Null when no cloud is configured. */
    result: z.object({ settings: cloudSchema.nullable() }),
    access: 'admin',
    mutates: false,
    path: 'cloud',
  }),
  testCloud: method({ input: z.strictObject({ settings: cloudSchema }), result: cloudTestResultSchema, access: 'admin', mutates: true, path: 'cloud/test' }),
  saveCloud: method({
    input: z.strictObject({ settings: cloudSchema, version: versionToken.optional() }),
    result: configWriteResultSchema,
    access: 'admin',
    mutates: true,
    path: 'cloud/save',
  }),
  uploadCa: method({
    input: z.strictObject({ pem: z.string().min(1).max(256 * 1024) }),
    /** Where the CA was stored; use it as cloud.caFile. */
    result: z.object({ caFile: z.string(), subjects: z.array(z.string()) }),
    access: 'admin',
    mutates: true,
    path: 'cloud/ca',
    maxBodyBytes: PEM_BODY_BYTES,
  }),

  // identity
  identity: method({ input: empty, result: identityViewSchema, access: 'technician', mutates: false, path: 'identity' }),
  createCsr: method({
    input: empty,
    result: z.object({ pem: z.string(), fileName: z.string(), subject: z.string() }),
    access: 'admin',
    mutates: true,
    path: 'identity/csr',
  }),
  importCertificate: method({
    input: z.strictObject({ pem: z.string().min(1).max(256 * 1024) }),
    result: identityViewSchema,
    access: 'admin',
    mutates: true,
    path: 'identity/certificate',
    maxBodyBytes: PEM_BODY_BYTES,
  }),
  rotateNow: method({ input: empty, result: z.object({ requestId: z.string() }), access: 'admin', mutates: true, path: 'identity/rotate' }),

  // OTA
  otaStatus: method({ input: empty, result: otaStatusSchema, access: 'admin', mutates: false, path: 'ota' }),
  uploadBundle: method({
    input: z.strictObject({ fileName: z.string().max(255).optional() }),
    result: bundleInfoSchema,
    access: 'admin',
    mutates: true,
    path: 'ota/bundle',
    streamedBody: true,
  }),
  verifyBundle: method({ input: z.strictObject({ bundleId: z.string() }), result: verifyResultSchema, access: 'admin', mutates: true, path: 'ota/verify' }),
  installBundle: method({
    input: z.strictObject({ bundleId: z.string() }),
    /** Resolves when the install started; progress arrives as `ota-progress` events. */
    result: z.object({ bundleId: z.string(), started: z.literal(true) }),
    access: 'admin',
    mutates: true,
    path: 'ota/install',
  }),
  rollback: method({ input: empty, result: z.object({ version: z.string() }), access: 'admin', mutates: true, path: 'ota/rollback' }),

  // logs
  logs: method({
    input: z.strictObject({
      /** This level and above. */
      level: logLevelSchema.optional(),
      namespace: z.string().max(64).optional(),
      /** Case-insensitive substring of the message or fields. */
      text: z.string().max(200).optional(),
      since: isoTime.optional(),
      until: isoTime.optional(),
      limit: z.number().int().min(1).max(5000).default(500),
    }),
    result: z.object({ entries: z.array(logEntrySchema) }),
    access: 'technician',
    mutates: false,
    path: 'logs',
  }),

  // config
  config: method({
    input: empty,
    result: z.object({ version: z.string(), file: z.string().nullable().describe('the YAML file, when known'), config: z.record(z.string(), z.unknown()) }),
    access: 'admin',
    mutates: false,
    path: 'config',
  }),
  schema: method({ input: empty, result: z.object({ schema: z.record(z.string(), z.unknown()) }), access: 'admin', mutates: false, path: 'config/schema' }),
  updateConfig: method({
    input: z.strictObject({
      /** A JSON merge patch (RFC 7396) on the config: null deletes a key. */
      patch: z.record(z.string(), z.unknown()),
      version: versionToken,
    }),
    result: configWriteResultSchema,
    access: 'admin',
    mutates: true,
    path: 'config',
    maxBodyBytes: PEM_BODY_BYTES,
  }),
} as const satisfies Record<string, MethodSpec>;

export type ApiMethods = typeof apiMethods;
export type MethodName = keyof ApiMethods;
export const METHOD_NAMES = Object.keys(apiMethods) as MethodName[];
/** What the caller sends (defaults optional). */
export type MethodInput<M extends MethodName> = z.input<ApiMethods[M]['input']>;
/** What the handler receives (defaults filled in). */
export type ParsedInput<M extends MethodName> = z.output<ApiMethods[M]['input']>;
export type MethodResult<M extends MethodName> = z.output<ApiMethods[M]['result']>;

/** `GET /api/status` or `POST /api/login` for a method. */
export function httpRoute(name: MethodName): { verb: 'GET' | 'POST'; url: string } {
  const spec: MethodSpec = apiMethods[name];
  return { verb: spec.mutates ? 'POST' : 'GET', url: `/api/${spec.path}` };
}

/** The Electron IPC channel of a method. */
export function ipcChannel(name: MethodName): string {
  return `fieldgate:${name}`;
}
/** Main → window: every `ApiEvent`. */
export const IPC_EVENT_CHANNEL = 'fieldgate:event';
/**
 * Window → main: one chunk of a streamed upload. Over IPC, `uploadBundle` is called with
 * `(input, uploadId)` and stays pending; the preload then sends the file's chunks in order on this
 * channel (each resolves once the backend took it, so at most one chunk is in memory) and a last
 * one with `last: true`; then `uploadBundle` resolves with its result.
 */
export const IPC_UPLOAD_CHUNK_CHANNEL = 'fieldgate:uploadBundle:chunk';
export const uploadIdSchema = z.string().regex(/^[A-Za-z0-9-]{8,64}$/);
export const UPLOAD_CHUNK_BYTES = 1024 * 1024;
export const uploadChunkSchema = z.tuple([
  uploadIdSchema,
  z.instanceof(Uint8Array).refine((bytes) => bytes.length <= UPLOAD_CHUNK_BYTES, { error: `expected at most ${UPLOAD_CHUNK_BYTES} bytes per chunk` }),
  z.boolean().describe('last chunk'),
]);

/** What every IPC call answers: Electron would drop an Error's fields, so failures are values. */
export type IpcReply<R> = { ok: true; result: R } | { ok: false; error: ApiErrorBody };

// ---------------------------------------------------------------- events (WebSocket /api/events and IPC)

export const apiEventSchema = z.discriminatedUnion('type', [
  z.object({ type: z.literal('status'), status: gatewayStatusSchema }),
  /** At most one per sensor per second. */
  z.object({ type: z.literal('values'), sensor: sensorValuesSchema }),
  z.object({ type: z.literal('alert'), alert: alertSchema }),
  /** The whole nearby list of a pairing session, strongest RSSI first. */
  z.object({ type: z.literal('pairing-nearby'), sessionId: z.string(), devices: z.array(nearbyDeviceSchema) }),
  z.object({ type: z.literal('pairing-ended'), sessionId: z.string(), reason: z.enum(['stopped', 'deadline', 'error']) }),
  z.object({
    type: z.literal('serial-preview'),
    previewId: z.string(),
    raw: z.string(),
    at: isoTime,
    result: z.discriminatedUnion('ok', [
      z.object({ ok: z.literal(true), readings: z.array(z.object({ sensorId: z.string(), values: z.array(measurementSchema.omit({ at: true })) })) }),
      z.object({ ok: z.literal(false), reason: z.string(), message: z.string() }),
    ]),
  }),
  z.object({ type: z.literal('serial-preview-ended'), previewId: z.string(), reason: z.enum(['stopped', 'deadline', 'error']), message: z.string().optional() }),
  z.object({
    type: z.literal('ota-progress'),
    bundleId: z.string(),
    phase: z.enum(OTA_PHASES),
    bytesDone: z.number().int(),
    bytesTotal: z.number().int(),
    /** `failed`: why (an OTA reason code). */
    reason: z.string().optional(),
  }),
  z.object({ type: z.literal('log'), entry: logEntrySchema }),
  /** Sent once on connect and after the session ends (then the socket closes). */
  z.object({ type: z.literal('session'), state: z.enum(['open', 'expired', 'ended']) }),
]);
export type ApiEvent = z.infer<typeof apiEventSchema>;
export type ApiEventType = ApiEvent['type'];
export const API_EVENT_TYPES = apiEventSchema.options.map((option) => option.shape.type.value) as ApiEventType[];
export const EVENTS_PATH = '/api/events';

/** Header carrying the CSRF token; the same value is in the `fieldgate_csrf` cookie. */
export const CSRF_HEADER = 'x-fieldgate-csrf';
export const CSRF_COOKIE = 'fieldgate_csrf';
export const SESSION_COOKIE = 'fieldgate_session';

/** The client view of the whole API: one async function per method (what the preload exposes). */
export type ApiCalls = { [M in MethodName]: (input: MethodInput<M>) => Promise<MethodResult<M>> };

/** Backwards name for the status-only API of earlier versions. */
export type GatewayApi = Pick<ApiCalls, 'status'>;
