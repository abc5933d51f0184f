import type { ApiEvent, MethodName, MethodResult, ParsedInput, Role } from '../shared/api.js';
import { ApiError } from '../shared/api.js';
import type { ApiBackends } from './backends.js';
import type { Auth } from './auth.js';
import type { Session } from './sessions.js';

/** Who is calling and how; built by the transport (HTTP request or IPC sender). */
export interface CallContext {
  transport: 'http' | 'ipc';
  /** The signed-in user, if any. */
  session: Session | undefined;
  /** A machine client holding a bearer token: ui.tokenFile's acts as admin, the local status token as technician. */
  bearerRole: Role | undefined;
  /** Remote address (HTTP) or `electron-window` (IPC): a login-throttling key. */
  client: string;
  /** Binds a new session to the caller (HTTP: sets the cookie; IPC: remembers it for the sender). */
  startSession(session: Session): void;
  /** Forgets the caller's session (cookie cleared / sender unbound). */
  endSession(): void;
  /** `uploadBundle` only: the streamed body. */
  body?: AsyncIterable<Uint8Array>;
}

export function callerRole(context: CallContext): Role | undefined {
  return context.bearerRole ?? context.session?.role;
}

export type MethodHandler<M extends MethodName> = (input: ParsedInput<M>, context: CallContext) => Promise<MethodResult<M>>;
export type ApiHandlers = { [M in MethodName]: MethodHandler<M> };

export interface HandlerDeps {
  backends: ApiBackends;
  auth: Auth;
  /** SHA-256 of the HTTPS certificate, or null over plain HTTP. */
  httpsFingerprint: () => string | null;
}

function need<T>(backend: T | undefined, area: string): T {
  if (backend === undefined) {
    throw new ApiError('unavailable', `${area} is not available on this gateway`, { hint: `the ${area} service is not running (see the gateway log)` });
  }
  return backend;
}

function requireSession(context: CallContext): Session {
  if (!context.session) throw new ApiError('forbidden', 'this needs a signed-in user (a bearer token has no account)');
  return context.session;
}

/** One handler per method of the contract; roles and input are checked before (see `dispatch`). */
export function createApiHandlers(deps: HandlerDeps): ApiHandlers {
  const { backends, auth } = deps;
  const area = {
    values: () => need(backends.values, 'live values'),
    history: () => need(backends.history, 'history'),
    alerts: () => need(backends.alerts, 'alerts'),
    logs: () => need(backends.logs, 'the log view'),
    config: () => need(backends.config, 'the config view'),
    configWrites: () => need(backends.configWrites, 'config editing'),
    serial: () => need(backends.serial, 'serial setup'),
    ble: () => need(backends.ble, 'BLE pairing'),
    cloud: () => need(backends.cloud, 'the cloud connection test'),
    identity: () => need(backends.identity, 'identity management'),
    ota: () => need(backends.ota, 'OTA updates'),
  };
  const ok = { ok: true } as const;
  return {
    setupState: async (_input, context) => auth.setupState(context.transport === 'ipc'),
    completeSetup: async (input, context) => {
      const session = await auth.completeSetup(input, context.client);
      context.startSession(session);
      return auth.info(session);
    },
    login: async (input, context) => {
      const session = await auth.login(input, context.client);
      context.startSession(session);
      return auth.info(session);
    },
    logout: async (_input, context) => {
      if (context.session) auth.sessions.end(context.session.id);
      context.endSession();
      return ok;
    },
    session: async (_input, context) => auth.info(requireSession(context)),
    changePassword: async (input, context) => {
      await auth.changePassword(requireSession(context), input, context.client);
      return ok;
    },
    users: async () => ({ users: auth.accounts.list() }),
    addUser: async (input) => auth.addUser(input),
    removeUser: async (input, context) => {
      if (context.session?.username === input.username) throw new ApiError('conflict', 'you cannot remove yourself', { field: 'username' });
      auth.removeUser(input.username);
      return ok;
    },
    resetPassword: async (input) => {
      await auth.resetPassword(input);
      return ok;
    },
    about: async () => ({ gatewayId: backends.status.gatewayId, version: backends.status.version, httpsFingerprint: deps.httpsFingerprint(), keyStore: backends.status.keyStore }),

    status: async () => backends.status.status(),
    values: async (input) => area.values().values(input),
    history: async (input) => area.history().history(input),
    alerts: async () => area.alerts().alerts(),

    serialPorts: async () => area.serial().ports(),
    startSerialPreview: async (input) => area.serial().startPreview(input),
    stopSerialPreview: async (input) => area.serial().stopPreview(input),
    addSensor: async (input) => area.configWrites().addSensor(input),
    updateSensor: async (input) => area.configWrites().updateSensor(input),
    removeSensor: async (input) => area.configWrites().removeSensor(input),

    startPairing: async (input) => area.ble().startPairing(input),
    stopPairing: async (input) => area.ble().stopPairing(input),
    nearbyDevices: async (input) => area.ble().nearby(input),
    addBleSensor: async (input) => area.ble().addSensor(input),
    removeBleSensor: async (input) => area.ble().removeSensor(input),

    cloud: async () => area.config().cloud(),
    testCloud: async (input) => area.cloud().test(input),
    saveCloud: async (input) => area.configWrites().saveCloud(input),
    uploadCa: async (input) => area.cloud().uploadCa(input),

    identity: async () => area.identity().identity(),
    createCsr: async () => area.identity().createCsr(),
    importCertificate: async (input) => area.identity().importCertificate(input),
    rotateNow: async () => area.identity().rotateNow(),

    otaStatus: async () => area.ota().status(),
    uploadBundle: async (input, context) => {
      if (!context.body) throw new ApiError('bad-request', 'uploadBundle needs the bundle as the request body');
      return area.ota().upload(context.body, input);
    },
    verifyBundle: async (input) => area.ota().verify(input),
    installBundle: async (input) => area.ota().install(input),
    rollback: async () => area.ota().rollback(),

    logs: async (input) => area.logs().query(input),
    config: async () => area.config().read(),
    schema: async () => area.config().schema(),
    updateConfig: async (input) => area.configWrites().update(input),
  };
}

/** Events a caller may see: everything for signed-in users; the transports drop the rest. */
export function eventVisibleTo(event: ApiEvent, role: Role | undefined): boolean {
  return role !== undefined && (event.type !== 'ota-progress' || role === 'admin');
}
