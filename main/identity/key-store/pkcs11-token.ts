import { existsSync, lstatSync, readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import type * as graphene from 'graphene-pk11';
import type * as nodeWebcryptoP11 from 'node-webcrypto-p11';
import type { Pkcs11Config } from '../../shared/config/identity.js';
import { HardwareKeyError } from '../errors.js';

/**
 * PKCS#11 is initialised once per process, and the OpenSSL engine (libp11) shares that state with
 * this binding: a C_Finalize or a logout from either side breaks the other's key. So a library is
 * loaded once, never finalised, and sessions log in without ever logging out.
 */
const loadedModules = new Map<string, graphene.Module>();

const require = createRequire(import.meta.url);

/** The PKCS#11 bindings, loaded on first use: they take about a second, which every other command and a file key store would pay. */
export function pkcs11Bindings(): { graphene: typeof graphene; webcrypto: typeof nodeWebcryptoP11 } {
  return { graphene: require('graphene-pk11') as typeof graphene, webcrypto: require('node-webcrypto-p11') as typeof nodeWebcryptoP11 };
}

const CKR_CRYPTOKI_ALREADY_INITIALIZED = 0x191;
const CKR_USER_ALREADY_LOGGED_IN = 0x100;
const CKR_PIN_INCORRECT = 0xa0;
const CKR_PIN_LOCKED = 0xa4;

function pkcs11Code(error: unknown): number | undefined {
  const code = (error as { code?: unknown }).code;
  return typeof code === 'number' ? code : undefined;
}

export function tokenName(config: Pkcs11Config): string {
  return config.tokenLabel !== undefined ? `token "${config.tokenLabel}"` : `slot ${String(config.slot)}`;
}

/** The user PIN from `pinFile`, checked before any token sees it (a wasted attempt counts against the retry limit). */
export function readPin(config: Pkcs11Config): string {
  const path = config.pinFile;
  let mode: number;
  try {
    const stats = lstatSync(path);
    if (!stats.isFile()) throw new HardwareKeyError(`identity.pkcs11.pinFile "${path}" is not a regular file: write the PIN to a file (0600, owned by the service user)`);
    mode = stats.mode;
  } catch (error) {
    if (error instanceof HardwareKeyError) throw error;
    throw new HardwareKeyError(`identity.pkcs11.pinFile "${path}" cannot be read (${(error as NodeJS.ErrnoException).code ?? String(error)}): create it with the token's user PIN, mode 0600`);
  }
  if ((mode & 0o077) !== 0) {
    throw new HardwareKeyError(`identity.pkcs11.pinFile "${path}" is readable by group or others (mode ${(mode & 0o777).toString(8)}): chmod 600 ${path}`);
  }
  const pin = readFileSync(path, 'utf8');
  if (pin.length === 0) throw new HardwareKeyError(`identity.pkcs11.pinFile "${path}" is empty: write the token's user PIN into it`);
  if (/[\r\n]/.test(pin)) {
    // The OpenSSL engine reads the file as it is: a newline would become part of the PIN and be refused.
    throw new HardwareKeyError(`identity.pkcs11.pinFile "${path}" contains a line break, which the token would take as part of the PIN: write it with printf '%s' "$PIN" > ${path}`);
  }
  return pin;
}

export function assertModuleFile(config: Pkcs11Config): void {
  if (!existsSync(config.module)) {
    throw new HardwareKeyError(`identity.pkcs11.module "${config.module}" does not exist: install the token's PKCS#11 library (softhsm2, tpm2-pkcs11 or the vendor's) or fix the path`);
  }
}

function loadModule(config: Pkcs11Config): graphene.Module {
  const loaded = loadedModules.get(config.module);
  if (loaded) return loaded;
  assertModuleFile(config);
  let module: graphene.Module;
  try {
    module = pkcs11Bindings().graphene.Module.load(config.module, 'fieldgate');
  } catch (error) {
    throw new HardwareKeyError(`identity.pkcs11.module "${config.module}" does not load as a PKCS#11 library (${error instanceof Error ? error.message : String(error)}): name the token's .so file`);
  }
  try {
    module.initialize();
  } catch (error) {
    if (pkcs11Code(error) !== CKR_CRYPTOKI_ALREADY_INITIALIZED) throw new HardwareKeyError(`the PKCS#11 library "${config.module}" failed to initialise: ${error instanceof Error ? error.message : String(error)}`);
  }
  loadedModules.set(config.module, module);
  return module;
}

function slotId(slot: graphene.Slot): number {
  const handle = slot.handle;
  return handle.length >= 8 ? Number(handle.readBigUInt64LE(0)) : handle.readUInt32LE(0);
}

function findSlot(module: graphene.Module, config: Pkcs11Config): graphene.Slot {
  const slots = module.getSlots(true);
  for (let index = 0; index < slots.length; index++) {
    const slot = slots.items(index);
    const matches = config.tokenLabel !== undefined ? slot.getToken().label.trim() === config.tokenLabel : slotId(slot) === config.slot;
    if (matches) return slot;
  }
  throw new HardwareKeyError(
    `${tokenName(config)} is not present in ${config.module}: plug in or initialise the token, or fix identity.pkcs11.${config.tokenLabel !== undefined ? 'tokenLabel' : 'slot'} (pkcs11-tool --module ${config.module} --list-slots lists them)`,
  );
}

/** Token flags that mean one more wrong PIN could lock it: then the PIN is not tried at all. */
function pinWarning(token: graphene.Token, config: Pkcs11Config): string | undefined {
  const { TokenFlag } = pkcs11Bindings().graphene;
  if (token.flags & TokenFlag.USER_PIN_LOCKED) return `${tokenName(config)} has locked its user PIN: unlock it with the SO PIN (e.g. pkcs11-tool --init-pin --login --login-type so)`;
  if (token.flags & TokenFlag.USER_PIN_FINAL_TRY) return `${tokenName(config)} allows one last PIN attempt: check identity.pkcs11.pinFile before anything tries it`;
  return undefined;
}

export function pinRefused(config: Pkcs11Config): HardwareKeyError {
  return new HardwareKeyError(`${tokenName(config)} refused the PIN in identity.pkcs11.pinFile "${config.pinFile}": correct the file (a real token locks after a few wrong PINs)`);
}

export function pinLocked(config: Pkcs11Config): HardwareKeyError {
  return new HardwareKeyError(`${tokenName(config)} has locked its user PIN: unlock it with the SO PIN, then restart fieldgate`);
}

function loginError(error: unknown, config: Pkcs11Config): HardwareKeyError {
  const code = pkcs11Code(error);
  if (code === CKR_PIN_INCORRECT) return pinRefused(config);
  if (code === CKR_PIN_LOCKED) return pinLocked(config);
  return new HardwareKeyError(`${tokenName(config)}: login failed: ${error instanceof Error ? error.message : String(error)}`);
}

/** Loads the library and finds the token without logging in: no PIN is used. Returns e.g. `token "fg" (serial 6b61…) in /usr/lib/…`. */
export function findToken(config: Pkcs11Config): string {
  const token = findSlot(loadModule(config), config).getToken();
  return `${tokenName(config)} (serial ${token.serialNumber.trim()}, ${token.manufacturerID.trim()} ${token.model.trim()}) in ${config.module}`;
}

/**
 * Opens a logged-in session on the configured token. The PIN is used at most once per call, and not
 * at all when the token says one more wrong PIN could lock it. Close it with `closeSession`; the
 * login itself stays (see above).
 */
export function openTokenSession(config: Pkcs11Config): graphene.Session {
  const pin = readPin(config);
  const slot = findSlot(loadModule(config), config);
  const warning = pinWarning(slot.getToken(), config);
  if (warning) throw new HardwareKeyError(warning);
  const { SessionFlag, UserType } = pkcs11Bindings().graphene;
  const session = slot.open(SessionFlag.SERIAL_SESSION | SessionFlag.RW_SESSION);
  try {
    session.login(pin, UserType.USER);
  } catch (error) {
    if (pkcs11Code(error) !== CKR_USER_ALREADY_LOGGED_IN) {
      closeSession(session);
      throw loginError(error, config);
    }
  }
  return session;
}

export function closeSession(session: graphene.Session): void {
  try {
    session.close();
  } catch {
    // Already closed by the token (removed): nothing left to release.
  }
}
