import { hexToBytes } from '@noble/hashes/utils.js';
import type { Command } from 'commander';
import { createReadStream, createWriteStream, existsSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import type { Readable } from 'node:stream';
import { loadConfig } from '../config/load.js';
import { IdentityCredentials } from '../identity/credentials.js';
import { identityStoreFromConfig } from '../identity/from-config.js';
import { createLogger, stderrDestination } from '../log/logger.js';
import { otaRootFor } from '../config/location.js';
import { parseKeyset } from '../ota/documents.js';
import { fetchBundle } from '../ota/fetch.js';
import { Installer } from '../ota/installer.js';
import { generatePublisherKey, keyIdOf, parsePublisherKey, type PublisherKey } from '../ota/keys.js';
import { EntrypointLauncher, ENV_OTA_ROOT, ENV_OTA_VERSION, RestartCommandLauncher } from '../ota/launcher.js';
import { markGood } from '../ota/mark-good.js';
import { scanPayload, signKeyset, signManifest, writeBundle, type SignedKeyset } from '../ota/publish.js';
import { OtaError } from '../ota/reasons.js';
import { loadKeysetFile, SHIPPED_KEYS_FILE } from '../ota/trusted-keys.js';
import { OtaVersions } from '../ota/versions.js';
import type { ProgressEvent } from '../ota/verify.js';
import { systemClock } from '../shared/clock.js';
import { OTA_DEFAULTS } from '../shared/config/ota.js';
import type { Config } from '../shared/config/schema.js';
import { UserError } from '../shared/errors.js';
import type { TlsCredentialProvider } from '../shared/tls.js';
import { printJson } from './output.js';

interface DeviceOptions {
  config?: string;
  root?: string;
  keys?: string;
  model?: string;
  arch?: string;
  appId?: string;
  timeoutMs?: string;
  progress?: boolean;
  tlsCa?: string;
  tlsCert?: string;
  tlsKey?: string;
}

const collect = (value: string, previous: string[] = []) => [...previous, ...value.split(',').filter(Boolean)];

export function registerOtaCommands(program: Command): void {
  const ota = program.command('ota').description('signed updates: keygen | keyset | rotate | sign | verify | install | mark-good | recover | rollback | status');

  ota
    .command('keygen')
    .description('make an Ed25519 publisher key; the secret key file is written 0600 and never overwritten')
    .requiredOption('--out <file>', 'secret key file to create')
    .action((options: { out: string }) => {
      if (existsSync(options.out)) throw new UserError(`ota keygen: "${options.out}" already exists; refusing to overwrite a key`);
      const key = generatePublisherKey();
      writeFileSync(options.out, `${JSON.stringify(key, null, 2)}\n`, { mode: 0o600, flag: 'wx' });
      printJson({ keyId: key.keyId, publicKey: key.publicKey, secretKeyFile: options.out });
    });

  ota
    .command('keyset')
    .description('print a key set (JSON) from public keys: ship it as the trusted key set, or sign it with `ota rotate`')
    .requiredOption('--threshold <k>', 'signatures required (k of n)')
    .requiredOption('--set-version <n>', 'key set version; a rotation must increase it')
    .argument('<keys...>', 'secret key files or 64-hex public keys')
    .action((keys: string[], options: { threshold: string; setVersion: string }) => {
      const entries = keys.map((key) => {
        const publicKey = /^[0-9a-f]{64}$/.test(key) ? key : readKey(key).publicKey;
        return { keyId: keyIdOf(hexToBytes(publicKey)), publicKey };
      });
      const keyset = {
        type: 'fieldgate-ota-keyset',
        version: positiveInt(options.setVersion, '--set-version'),
        threshold: positiveInt(options.threshold, '--threshold'),
        keys: entries,
      };
      printJson(guard(() => parseKeyset(keyset, 'key set')));
    });

  ota
    .command('rotate')
    .description('sign a new key set with keys of the current set (a threshold of them), for `ota sign --rotation`')
    .requiredOption('--keyset <file>', 'the new key set (from `ota keyset`)')
    .requiredOption('--key <file>', 'a secret key of the CURRENT set (repeat)', collect)
    .requiredOption('--out <file>', 'rotation file to write')
    .action((options: { keyset: string; key: string[]; out: string }) => {
      const rotation = guard(() => signKeyset(loadKeysetFile(options.keyset), options.key.map(readKey)));
      writeFileSync(options.out, `${JSON.stringify(rotation, null, 2)}\n`, { flag: 'wx' });
      printJson({ rotation: options.out, version: rotation.signed.version, signedBy: rotation.signatures.map((s) => s.keyId) });
    });

  ota
    .command('sign')
    .description('build and sign a bundle from a payload folder')
    .requiredOption('--payload <dir>', 'folder whose files become the new version')
    .requiredOption('--bundle-version <n>', 'monotonic release number (integer); `--version` is taken by fieldgate itself')
    .requiredOption('--label <text>', 'human version, e.g. 1.4.0')
    .requiredOption('--security-counter <n>', 'anti-rollback counter; raise it to retire vulnerable releases')
    .requiredOption('--model <m>', 'target model (repeat or comma-separate)', collect)
    .requiredOption('--arch <a>', 'target arch: arm64, arm, x64 … (repeat or comma-separate)', collect)
    .requiredOption('--entrypoint <path>', 'payload file that starts the version')
    .requiredOption('--key <file>', 'publisher secret key (repeat for k-of-n)', collect)
    .requiredOption('--out <file>', 'bundle to write')
    .option('--app-id <id>', 'application id', OTA_DEFAULTS.appId)
    .option('--expires-in-days <d>', 'validity of the metadata', '90')
    .option('--rotation <file>', 'key set rotation (from `ota rotate`) to carry')
    .option('--gzip', 'compress the archive')
    .action(async (options: SignOptions) => sign(options));

  withDeviceOptions(ota
    .command('verify')
    .description('verify BUNDLE against the trusted keys, floor and clock; exit 0 only if every check passes')
    .argument('<bundle>', 'bundle file (.tar or .tar.gz), e.g. from a USB stick, or an https:// URL'))
    .action(async (bundle: string, options: DeviceOptions) => {
      const installer = buildInstaller(options);
      const verified = await refuse('verify', async () => installer.verify(await openBundle(bundle, options)));
      printJson({
        ok: true,
        version: verified.manifest.version,
        label: verified.manifest.label,
        securityCounter: verified.manifest.securityCounter,
        files: verified.manifest.files.length,
        totalBytes: verified.totalBytes,
        expiresAt: new Date(verified.manifest.expiresAt * 1000).toISOString(),
        keysetVersion: verified.keyset.version,
        rotation: verified.rotatedKeyset !== undefined,
      });
    });

  withDeviceOptions(ota
    .command('install')
    .description('verify, extract to versions/<v>, switch `current`, start it and wait for mark-good; roll back otherwise')
    .argument('<bundle>', 'bundle file (.tar or .tar.gz) or an https:// URL (fetched with the device’s mutual-TLS identity)'))
    .option('--timeout-ms <ms>', 'how long the new version has to mark itself good')
    .option('--progress', 'print progress events as JSON lines on stderr')
    .action(async (bundle: string, options: DeviceOptions) => {
      const installer = buildInstaller(options);
      const result = await refuse('install', async () => installer.install(await openBundle(bundle, options)));
      printJson({ ok: true, ...result });
    });

  ota
    .command('mark-good')
    .description('called by a new version after its health checks pass; idempotent')
    .option('--root <dir>', `OTA root (default: $${ENV_OTA_ROOT})`)
    .option('--bundle-version <n>', `version marking itself good (default: $${ENV_OTA_VERSION})`)
    .action(async (options: { root?: string; bundleVersion?: string }) => {
      const root = options.root ?? process.env[ENV_OTA_ROOT];
      const version = options.bundleVersion ?? process.env[ENV_OTA_VERSION];
      if (!root || !version) throw new UserError(`ota mark-good: give --root and --bundle-version (or set ${ENV_OTA_ROOT} and ${ENV_OTA_VERSION})`);
      const outcome = await guardAsync(() => markGood({ root, version: positiveInt(version, '--bundle-version'), clock: systemClock }));
      printJson({ ok: true, outcome });
    });

  ota
    .command('recover')
    .description('finish or undo an install interrupted by power loss (run before the service starts)')
    .option('--config <file>', 'fieldgate config')
    .option('--root <dir>', 'OTA root')
    .action(async (options: DeviceOptions) => {
      const outcome = await refuse('recover', () => stateOf(options).recover());
      printJson({ ok: true, outcome });
    });

  ota
    .command('rollback')
    .description('switch `current` back to the previous version on disk (the floor stays where it is)')
    .option('--config <file>', 'fieldgate config')
    .option('--root <dir>', 'OTA root')
    .action(async (options: DeviceOptions) => {
      const version = await refuse('rollback', () => stateOf(options).rollbackToPrevious());
      printJson({ ok: true, current: version });
    });

  ota
    .command('status')
    .description('current version, versions on disk, floor, trusted time, pending install')
    .option('--config <file>', 'fieldgate config')
    .option('--root <dir>', 'OTA root')
    .action(async (options: DeviceOptions) => {
      const versions = stateOf(options);
      const store = versions.store;
      printJson({
        root: versions.layout.root,
        current: (await store.currentVersion()) ?? null,
        installed: await versions.installed(),
        floor: await store.readFloor(),
        time: await store.readEvidence(),
        pending: (await store.readJournal()) ?? null,
      });
    });
}

const DEVICE_HELP = '\nWithout --config, give --root, --model and --arch (default: this machine); --keys defaults to the shipped key set.';

interface SignOptions {
  payload: string;
  bundleVersion: string;
  label: string;
  securityCounter: string;
  model: string[];
  arch: string[];
  entrypoint: string;
  key: string[];
  out: string;
  appId: string;
  expiresInDays: string;
  rotation?: string;
  gzip?: boolean;
}

async function sign(options: SignOptions): Promise<void> {
  if (existsSync(options.out)) throw new UserError(`ota sign: "${options.out}" already exists`);
  const files = await guardAsync(() => scanPayload(options.payload));
  const issuedAt = Math.floor(Date.now() / 1000);
  const days = positiveInt(options.expiresInDays, '--expires-in-days');
  const rotation = options.rotation ? (JSON.parse(readFileSync(options.rotation, 'utf8')) as SignedKeyset) : undefined;
  const envelope = guard(() =>
    signManifest(
      {
        type: 'fieldgate-ota-manifest',
        format: 1,
        appId: options.appId,
        version: positiveInt(options.bundleVersion, '--bundle-version'),
        label: options.label,
        securityCounter: nonNegativeInt(options.securityCounter, '--security-counter'),
        targets: { models: options.model, archs: options.arch },
        issuedAt,
        expiresAt: issuedAt + days * 86_400,
        entrypoint: options.entrypoint,
        files: files.map((file) => file.entry),
      },
      options.key.map(readKey),
      rotation,
    ),
  );
  await writeBundle(envelope, files, createWriteStream(options.out, { flags: 'wx' }), { gzip: options.gzip === true });
  printJson({ bundle: options.out, version: envelope.signed.version, files: files.length, signedBy: envelope.signatures.map((s) => s.keyId) });
}

/** recover, rollback and status only touch the versions on disk: no bundle, so no model or keys. */
function stateOf(options: DeviceOptions): OtaVersions {
  const config = options.config && !options.root ? loadConfig(options.config) : undefined;
  const root = options.root ?? (config ? otaRootFor(config) : undefined);
  if (!root) throw new UserError('give --config FILE or --root DIR');
  return new OtaVersions(root, createLogger({ level: config?.log.level ?? 'warn', destination: stderrDestination() }));
}

function buildInstaller(options: DeviceOptions): Installer {
  const config = options.config ? loadConfig(options.config) : undefined;
  if (config && !config.ota) throw new UserError(`"${options.config}" has no "ota" section`);
  const ota = config?.ota;
  const root = options.root ?? (config ? otaRootFor(config) : undefined);
  if (!root) throw new UserError('give --config FILE (with an ota section) or --root DIR');
  const model = options.model ?? ota?.model;
  if (!model) throw new UserError('give --model (or set ota.model in the config)');
  const keysFile = options.keys ?? ota?.trustedKeysFile ?? SHIPPED_KEYS_FILE;
  const log = createLogger({ level: config?.log.level ?? 'warn', destination: stderrDestination() });
  const timeout = options.timeoutMs ? positiveInt(options.timeoutMs, '--timeout-ms') : (ota?.markGoodTimeoutMs ?? OTA_DEFAULTS.markGoodTimeoutMs);
  return new Installer({
    root,
    shippedKeyset: guard(() => loadKeysetFile(keysFile)),
    device: { appId: ota?.appId ?? OTA_DEFAULTS.appId, model, arch: options.arch ?? ota?.arch ?? process.arch },
    clock: systemClock,
    launcher: ota?.restartCommand ? new RestartCommandLauncher(ota.restartCommand) : new EntrypointLauncher(),
    log,
    markGoodTimeoutMs: timeout,
    ...(ota ? { skewSeconds: ota.clockSkewSeconds, reserveBytes: ota.reserveBytes, limits: { maxBundleBytes: ota.maxBundleBytes } } : {}),
    ...(options.progress ? { onProgress: progressPrinter() } : {}),
  });
}

function progressPrinter(): (event: ProgressEvent) => void {
  let lastPhase = '';
  let lastBytes = 0;
  return (event) => {
    if (event.phase === lastPhase && event.bytesHashed - lastBytes < 1024 * 1024 && event.bytesHashed !== event.totalBytes) return;
    lastPhase = event.phase;
    lastBytes = event.bytesHashed;
    process.stderr.write(`${JSON.stringify({ progress: event })}\n`);
  };
}

async function openBundle(path: string, options: DeviceOptions): Promise<Readable> {
  if (/^[a-z]+:\/\//i.test(path)) {
    const config = options.config ? loadConfig(options.config) : undefined;
    return fetchBundle(path, { credentials: tlsCredentials(options, config), maxBundleBytes: config?.ota?.maxBundleBytes ?? OTA_DEFAULTS.maxBundleBytes });
  }
  try {
    const stats = statSync(path);
    if (!stats.isFile() && !stats.isFIFO()) throw new UserError(`bundle "${path}" is not a file`);
  } catch (error) {
    if (error instanceof UserError) throw error;
    throw new UserError(`bundle "${path}": ${(error as NodeJS.ErrnoException).code === 'ENOENT' ? 'file not found' : String(error)}`);
  }
  return createReadStream(path);
}

/** Explicit --tls-* files, else the device identity (key + certificate) from the config. */
function tlsCredentials(options: DeviceOptions, config: Config | undefined): TlsCredentialProvider {
  if (options.tlsCa || options.tlsCert || options.tlsKey) {
    const { tlsCa, tlsCert, tlsKey } = options;
    if (!tlsCa || !tlsCert || !tlsKey) throw new UserError('give all of --tls-ca, --tls-cert and --tls-key');
    return async () => ({ ca: readFileSync(tlsCa, 'utf8'), cert: readFileSync(tlsCert, 'utf8'), key: readFileSync(tlsKey, 'utf8') });
  }
  if (!config) throw new UserError('an https:// bundle needs the device identity: give --config FILE (or --tls-ca, --tls-cert and --tls-key)');
  const credentials = new IdentityCredentials({ store: identityStoreFromConfig(config), clock: systemClock });
  return credentials.provide;
}

/** A refusal prints `{"ok":false,"reason":…}` on stdout for machines and one line on stderr. */
async function refuse<T>(command: string, run: () => Promise<T>): Promise<T> {
  try {
    return await run();
  } catch (error) {
    if (error instanceof OtaError) {
      printJson({ ok: false, reason: error.code, message: error.message.slice(error.code.length + 2) });
      throw new UserError(`ota ${command}: ${error.message}`, 3);
    }
    throw error;
  }
}

function guard<T>(run: () => T): T {
  try {
    return run();
  } catch (error) {
    throw new UserError((error as Error).message);
  }
}

async function guardAsync<T>(run: () => Promise<T>): Promise<T> {
  try {
    return await run();
  } catch (error) {
    throw new UserError((error as Error).message);
  }
}

function readKey(file: string): PublisherKey {
  let text: string;
  try {
    const mode = statSync(file).mode & 0o077;
    if (mode !== 0) throw new UserError(`key file "${file}" is readable by group or others; run chmod 600 "${file}"`);
    text = readFileSync(file, 'utf8');
  } catch (error) {
    if (error instanceof UserError) throw error;
    throw new UserError(`key file "${file}": ${(error as NodeJS.ErrnoException).code === 'ENOENT' ? 'file not found' : String(error)}`);
  }
  return guard(() => parsePublisherKey(text, file));
}

function positiveInt(text: string, flag: string): number {
  const value = Number(text);
  if (!/^\d+$/.test(text) || !Number.isSafeInteger(value) || value < 1) throw new UserError(`${flag}: expected integer >= 1, got ${text}`);
  return value;
}

function nonNegativeInt(text: string, flag: string): number {
  const value = Number(text);
  if (!/^\d+$/.test(text) || !Number.isSafeInteger(value)) throw new UserError(`${flag}: expected integer >= 0, got ${text}`);
  return value;
}

/** The options `verify` and `install` share: where the box's OTA state is and how to reach an update server. */
function withDeviceOptions(command: Command): Command {
  return command
    .addHelpText('after', DEVICE_HELP)
    .option('--config <file>', 'fieldgate config (uses its ota section)')
    .option('--root <dir>', 'OTA root (versions/, current, state/)')
    .option('--keys <file>', 'trusted key set file')
    .option('--model <m>', 'this box’s model')
    .option('--arch <a>', 'this box’s arch')
    .option('--tls-ca <file>', 'for https://: CA of the update server (default: the device identity from --config)')
    .option('--tls-cert <file>', 'for https://: client certificate')
    .option('--tls-key <file>', 'for https://: client key');
}
