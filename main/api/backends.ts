/**
 * What the control API needs from the rest of the gateway: one narrow interface per area. The
 * handler table (`createApiHandlers`) validates input, checks roles and maps errors; backends only
 * do the work. Inputs arrive already parsed by the contract's schemas (defaults filled in).
 *
 * A backend reports a caller's mistake by throwing `ApiError` (main/shared/api.ts) with the right
 * kind (`bad-request` with `field`, `not-found`, `conflict` with `currentVersion`, …); anything
 * else it throws becomes a generic `internal` 500 and is logged with its details.
 *
 * Owners: status/config read/identity minimal wiring: api (main/service/gateway.ts, then `live`);
 * values, history, logs, config writes: `live`; serial, ble, cloud test, identity, ota: `setup`.
 */
import type { ApiEvent, KeyStoreView, MethodName, MethodResult, ParsedInput } from '../shared/api.js';

type In<M extends MethodName> = ParsedInput<M>;
type Out<M extends MethodName> = Promise<MethodResult<M>> | MethodResult<M>;

export interface StatusBackend {
  status(): Out<'status'>;
  /** Version, gateway id; the API server adds the HTTPS fingerprint itself. */
  gatewayId: string;
  version: string;
  /** Where the device key lives (identity.keyStore), for About. */
  keyStore: KeyStoreView;
}

export interface ValuesBackend {
  /** The latest value per quantity per sensor (all sensors when `sensor` is absent). */
  values(input: In<'values'>): Out<'values'>;
}

export interface HistoryBackend {
  /** Rate and buffer depth over the window, from memory (last hour). */
  history(input: In<'history'>): Out<'history'>;
}

export interface AlertsBackend {
  alerts(): Out<'alerts'>;
}

export interface LogsBackend {
  query(input: In<'logs'>): Out<'logs'>;
}

/** Reading the config: works from the loaded config alone (main/api/config-read-backend.ts). */
export interface ConfigBackend {
  /** The effective config with its version token (secrets are file paths already). */
  read(): Out<'config'>;
  schema(): Out<'schema'>;
  /** `cloud`: the current cloud section (secrets as file paths only), or null. */
  cloud(): Out<'cloud'>;
}

/** Writing the config: versioned, atomic, comments kept, then the gateway reconciles (`live`). */
export interface ConfigWriteBackend {
  /** Applies a merge patch; throws ApiError('conflict', …, { currentVersion }) on a stale version. */
  update(input: In<'updateConfig'>): Out<'updateConfig'>;
  addSensor(input: In<'addSensor'>): Out<'addSensor'>;
  updateSensor(input: In<'updateSensor'>): Out<'updateSensor'>;
  removeSensor(input: In<'removeSensor'>): Out<'removeSensor'>;
  saveCloud(input: In<'saveCloud'>): Out<'saveCloud'>;
}

export interface SerialBackend {
  ports(): Out<'serialPorts'>;
  /** Lines go out as `serial-preview` events, then one `serial-preview-ended`. */
  startPreview(input: In<'startSerialPreview'>): Out<'startSerialPreview'>;
  stopPreview(input: In<'stopSerialPreview'>): Out<'stopSerialPreview'>;
}

export interface BleBackend {
  /** Nearby lists go out as `pairing-nearby` events, then one `pairing-ended`. */
  startPairing(input: In<'startPairing'>): Out<'startPairing'>;
  stopPairing(input: In<'stopPairing'>): Out<'stopPairing'>;
  nearby(input: In<'nearbyDevices'>): Out<'nearbyDevices'>;
  /** Refuses (ApiError bad-request, field `bindKey`) a key that does not decrypt the latest advertisement. */
  addSensor(input: In<'addBleSensor'>): Out<'addBleSensor'>;
  removeSensor(input: In<'removeBleSensor'>): Out<'removeBleSensor'>;
}

export interface CloudBackend {
  /** One connection with the proposed settings; nothing saved. */
  test(input: In<'testCloud'>): Out<'testCloud'>;
  uploadCa(input: In<'uploadCa'>): Out<'uploadCa'>;
}

export interface IdentityBackend {
  identity(): Out<'identity'>;
  createCsr(): Out<'createCsr'>;
  importCertificate(input: In<'importCertificate'>): Out<'importCertificate'>;
  rotateNow(): Out<'rotateNow'>;
}

export interface OtaBackend {
  status(): Out<'otaStatus'>;
  /**
   * Streams the body into staging. Must stop reading and throw ApiError('too-large') once more than
   * ota.maxBundleBytes arrived; never holds the whole bundle in memory.
   */
  upload(body: AsyncIterable<Uint8Array>, input: In<'uploadBundle'>): Out<'uploadBundle'>;
  verify(input: In<'verifyBundle'>): Out<'verifyBundle'>;
  /** Progress goes out as `ota-progress` events. */
  install(input: In<'installBundle'>): Out<'installBundle'>;
  rollback(): Out<'rollback'>;
}

/** Where backends publish live events; the API fans them out to WebSockets and the Electron window. */
export interface EventPublisher {
  publish(event: ApiEvent): void;
}

/**
 * Everything the API serves. `status` is required; an absent area answers `unavailable` (503) with
 * a hint, so the API runs while other parts are still being built or are disabled (no BLE adapter).
 */
export interface ApiBackends {
  status: StatusBackend;
  values?: ValuesBackend;
  history?: HistoryBackend;
  alerts?: AlertsBackend;
  logs?: LogsBackend;
  config?: ConfigBackend;
  configWrites?: ConfigWriteBackend;
  serial?: SerialBackend;
  ble?: BleBackend;
  cloud?: CloudBackend;
  identity?: IdentityBackend;
  ota?: OtaBackend;
}
