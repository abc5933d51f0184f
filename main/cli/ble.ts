import { readFileSync } from 'node:fs';
import { setTimeout as sleep } from 'node:timers/promises';
import type { Command } from 'commander';
import { loadConfig } from '../config/load.js';
import { createLogger, stderrDestination } from '../log/logger.js';
import { AllowlistStore, defaultSensorId } from '../sensors/ble/allowlist.js';
import { hexToBytes, macToBytes, normalizeMac } from '../sensors/ble/decoders/bytes.js';
import { decodePayloads, expandUuid, type AdvertisementPayloads } from '../sensors/ble/decoders/index.js';
import { DecodeError, type BleFormat, type DecodedAdvertisement } from '../sensors/ble/decoders/types.js';
import { checkAdvertisement, parseBindKey } from '../sensors/ble/pairing.js';
import { systemClock } from '../shared/clock.js';
import type { BleConfig } from '../shared/config/ble.js';
import { UserError } from '../shared/errors.js';
import { printJson } from './output.js';
import { bleStateDir } from '../config/location.js';

const POLL_MS = 250;

/**
 * `fcd2=HEX` (service UUID, 16-bit or full) or `0x0499=HEX` / `1177=HEX` (company id: 0x prefix
 * or decimal) → payloads as BlueZ would report them. Several arguments are merged, for devices
 * that need two (SwitchBot Outdoor Meter); `localName` is the advertised name (Inkbird).
 */
export function parseAdvertArguments(argumentList: readonly string[], localName?: string): AdvertisementPayloads {
  const serviceData = new Map<string, Uint8Array>();
  const manufacturerData = new Map<number, Uint8Array>();
  for (const argument of argumentList) {
    const match = /^([^=]+)=(.*)$/.exec(argument.trim());
    if (!match) throw new UserError(`expected SERVICE_UUID=HEX or COMPANY_ID=HEX (e.g. fcd2=4002CA09 or 0x0499=05...), got "${argument}"`);
    const [, key = '', hex = ''] = match;
    let bytes: Uint8Array;
    try {
      bytes = hexToBytes(hex, 'payload');
    } catch (error) {
      throw new UserError((error as Error).message);
    }
    if (/^(0x[0-9a-f]{1,4}|[0-9]{1,5})$/i.test(key)) {
      const company = Number(key);
      if (company > 0xffff) throw new UserError(`company id ${key} is larger than 0xffff`);
      manufacturerData.set(company, bytes);
      continue;
    }
    try {
      serviceData.set(expandUuid(key), bytes);
    } catch (error) {
      throw new UserError((error as Error).message);
    }
  }
  return { serviceData, manufacturerData, ...(localName !== undefined ? { localName } : {}) };
}

/** The key under which the format's repeat id is shown. */
const REPEAT_ID_NAMES: Partial<Record<BleFormat, string>> = {
  'bthome-v2': 'packetId',
  'ruuvi-df5': 'sequence',
  'ruuvi-df6': 'sequence',
  mibeacon: 'frameCounter',
  pvvx: 'frameCounter',
  atc1441: 'frameCounter',
};

function describeDecoded(decoded: DecodedAdvertisement): Record<string, unknown> {
  return {
    format: decoded.format,
    encrypted: decoded.encrypted,
    values: decoded.values,
    ...(decoded.repeatId !== undefined ? { [REPEAT_ID_NAMES[decoded.format] ?? 'repeatId']: decoded.repeatId } : {}),
    ...(decoded.counter !== undefined ? { counter: decoded.counter } : {}),
    ...(decoded.payloadMac !== undefined ? { mac: decoded.payloadMac } : {}),
    ...(decoded.beaconId !== undefined ? { beacon: decoded.beaconId } : {}),
  };
}

function decodeCommand(argumentList: string[], options: { mac?: string; key?: string; localName?: string }): void {
  const payloads = parseAdvertArguments(argumentList, options.localName);
  try {
    const keying = {
      ...(options.mac !== undefined ? { mac: macToBytes(options.mac) } : {}),
      ...(options.key !== undefined ? { bindKey: parseBindKey(options.key) } : {}),
    };
    printJson(describeDecoded(decodePayloads(payloads, keying)));
  } catch (error) {
    if (error instanceof DecodeError) {
      const hint = error.reason === 'key-required' ? ' (pass --mac and --key)' : '';
      throw new UserError(`cannot decode (${error.reason}): ${error.message}${hint}`);
    }
    throw error;
  }
}

interface BleContext {
  config: BleConfig;
  stateDir: string;
  logLevel: string;
}

function bleContext(file: string): BleContext {
  const config = loadConfig(file);
  const ble = config.sensors.ble;
  if (!ble) throw new UserError(`${file} has no sensors.ble section; add "sensors: { ble: {} }" to enable BLE`);
  return { config: ble, stateDir: bleStateDir(config), logLevel: config.log.level };
}

function openStore(context: BleContext): AllowlistStore {
  const store = new AllowlistStore({ dir: context.stateDir });
  store.load();
  return store;
}

function readKeyFile(file: string): string {
  try {
    return readFileSync(file === '-' ? 0 : file, 'utf8').trim();
  } catch (error) {
    throw new UserError(`cannot read the bind key file ${file}: ${(error as NodeJS.ErrnoException).code ?? String(error)}`);
  }
}

function seconds(text: string): number {
  const value = Number(text);
  if (!Number.isInteger(value) || value < 1 || value > 3600) throw new UserError(`expected whole seconds between 1 and 3600, got "${text}"`);
  return value;
}

function scanOptions(context: BleContext, duration: number) {
  return {
    config: context.config,
    stateDir: context.stateDir,
    log: createLogger({ level: context.logLevel === 'info' ? 'warn' : context.logLevel, destination: stderrDestination() }),
    clock: systemClock,
    seconds: duration,
  };
}

interface AddOptions {
  config: string;
  mac: string;
  id?: string;
  name?: string;
  keyFile?: string;
  advert?: string[];
  localName?: string;
  wait: string;
}

async function addCommand(options: AddOptions): Promise<void> {
  const context = bleContext(options.config);
  const bindKey = options.keyFile !== undefined ? readKeyFile(options.keyFile) : undefined;
  let mac: string;
  try {
    mac = normalizeMac(options.mac);
  } catch {
    throw new UserError(`--mac: expected a MAC such as 54:48:E6:8F:80:A5, got "${options.mac}"`);
  }
  if (options.advert !== undefined) {
    const store = openStore(context);
    const key = bindKey !== undefined ? parseBindKey(bindKey) : undefined;
    const decoded = checkAdvertisement(mac, parseAdvertArguments(options.advert, options.localName), key);
    store.upsert({
      mac,
      id: options.id ?? store.get(mac)?.id ?? defaultSensorId(mac),
      name: options.name ?? mac,
      format: decoded.format,
      addedAt: Date.now(),
      ...(key ? { bindKey: key } : {}),
    });
    printJson(store.list().find((e) => e.mac === mac));
    return;
  }
  const wait = seconds(options.wait);
  const { withPairingScan } = await import('../sensors/ble/pairing-scan.js'); // D-Bus only for the commands that scan
  const saved = await withPairingScan(scanOptions(context, wait), async (pairing) => {
    const deadline = Date.now() + wait * 1000;
    while (!pairing.nearby().some((d) => d.mac === mac)) {
      if (Date.now() >= deadline) throw new UserError(`${mac} was not heard within ${wait} s; wake it (press its button) and try again`);
      await sleep(POLL_MS);
    }
    return pairing.add({
      mac,
      ...(options.id !== undefined ? { id: options.id } : {}),
      ...(options.name !== undefined ? { name: options.name } : {}),
      ...(bindKey !== undefined ? { bindKey } : {}),
    });
  });
  printJson(saved);
}

export function registerBleCommands(program: Command): void {
  const ble = program.command('ble').description('BLE tools: decode an advertisement, scan, manage the allowlist');
  ble
    .command('decode')
    .description('decode one advertisement payload and print its values as JSON')
    .argument('<payload...>', 'SERVICE_UUID=HEX (e.g. fcd2=4002CA09) or COMPANY_ID=HEX with 0x or decimal id (e.g. 0x0499=05...); several for devices that send two')
    .option('--mac <mac>', 'device MAC, needed for encrypted frames that do not carry it')
    .option('--key <hex>', 'BTHome or MiBeacon bind key (32 hex digits)')
    .option('--local-name <name>', 'the advertised device name (Inkbird: sps or tps)')
    .action((payloads: string[], options: { mac?: string; key?: string; localName?: string }) => decodeCommand(payloads, options));

  ble
    .command('scan')
    .description('open a pairing session and list nearby BLE sensors (strongest first) as JSON')
    .requiredOption('-c, --config <file>', 'YAML config file')
    .option('--seconds <n>', 'how long to listen', '15')
    .action(async (options: { config: string; seconds: string }) => {
      const duration = seconds(options.seconds);
      const { withPairingScan } = await import('../sensors/ble/pairing-scan.js');
      const nearby = await withPairingScan(scanOptions(bleContext(options.config), duration), async (pairing) => {
        // The session opened before discovery started (so cached devices are captured): end just before it does.
        const expiresAt = Date.parse(pairing.session().expiresAt ?? '');
        await sleep(Math.max(0, expiresAt - Date.now() - 100));
        return pairing.nearby();
      });
      printJson(nearby);
    });

  const allowlist = ble.command('allowlist').description('devices allowed to produce readings');
  allowlist
    .command('list')
    .requiredOption('-c, --config <file>', 'YAML config file')
    .action((options: { config: string }) => printJson(openStore(bleContext(options.config)).list()));
  allowlist
    .command('add')
    .description('allow a device; its data (and bind key) are checked against an advertisement first')
    .requiredOption('-c, --config <file>', 'YAML config file')
    .requiredOption('--mac <mac>', 'device MAC, e.g. 54:48:E6:8F:80:A5')
    .option('--id <id>', 'sensor id for readings (default ble-<mac>)')
    .option('--name <name>', 'display name')
    .option('--key-file <file>', 'file holding the BTHome or MiBeacon bind key as hex ("-" reads stdin)')
    .option('--advert <payload...>', 'check against this captured advertisement (SERVICE_UUID=HEX or COMPANY_ID=HEX, one or more) instead of listening')
    .option('--local-name <name>', 'with --advert: the advertised device name (Inkbird: sps or tps)')
    .option('--wait <seconds>', 'how long to listen for the device', '30')
    .action(addCommand);
  allowlist
    .command('remove')
    .requiredOption('-c, --config <file>', 'YAML config file')
    .argument('<mac>', 'device MAC')
    .action((mac: string, options: { config: string }) => {
      const store = openStore(bleContext(options.config));
      let normalized: string;
      try {
        normalized = normalizeMac(mac);
      } catch {
        throw new UserError(`expected a MAC such as 54:48:E6:8F:80:A5, got "${mac}"`);
      }
      if (!store.remove(normalized)) throw new UserError(`${normalized} is not on the allowlist`);
      process.stdout.write(`removed ${normalized}\n`);
    });
}
