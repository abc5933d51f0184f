import { readFileSync } from 'node:fs';
import { dirname, isAbsolute, resolve } from 'node:path';
import { parseDocument } from 'yaml';
import { ConfigError } from '../shared/errors.js';
import type { Config } from '../shared/config/schema.js';
import { validateConfig } from './validate.js';

const ENV_PREFIX = 'FIELDGATE__';

/** Set to `1` to let FIELDGATE__* variables change the keys that decide whom the gateway trusts. */
export const TRUST_OVERRIDE_OPT_IN = 'FIELDGATE_ALLOW_TRUST_OVERRIDES';

/**
 * Keys that decide whom the gateway trusts or what it runs: an environment variable (a systemd
 * drop-in, a container) must not change them quietly. `cloud.url` counts when the result is a
 * plaintext connection; otherwise the CA and client certificate still decide who the broker is.
 */
const TRUST_KEYS = [
  'cloud.allowInsecure',
  'cloud.caFile',
  'cloud.certFile',
  'cloud.keyFile',
  'identity.caFile',
  'identity.dir',
  'ota.trustedKeysFile',
  'ota.restartCommand',
  'ota.rootDir',
  'ui.host',
  'ui.https',
  'ui.tokenFile',
];

export interface EnvOverride {
  /** The variable, e.g. `FIELDGATE__CLOUD__URL`. */
  variable: string;
  /** The config key it sets, e.g. `cloud.url`. */
  key: string;
}

/** Every FIELDGATE__* variable in `env` and the key it sets, sorted by variable; values are left out (they may be secret). */
export function listEnvOverrides(env: NodeJS.ProcessEnv): EnvOverride[] {
  return Object.keys(env)
    .filter((name) => name.startsWith(ENV_PREFIX) && env[name] !== undefined)
    .sort()
    .map((variable) => ({ variable, key: variable.slice(ENV_PREFIX.length).split('__').map(envKeyToConfigKey).join('.') }));
}

/**
 * `FIELDGATE__CLOUD__URL=mqtts://…` sets `cloud.url`. Values are read as YAML scalars so that
 * numbers and booleans keep their types. Useful for systemd drop-ins and containers. Overrides of
 * trust-related keys are refused unless FIELDGATE_ALLOW_TRUST_OVERRIDES=1.
 */
export function applyEnvOverrides(document: unknown, env: NodeJS.ProcessEnv): unknown {
  const root = (typeof document === 'object' && document !== null ? document : {}) as Record<string, unknown>;
  const overrides = listEnvOverrides(env);
  for (const { variable, key } of overrides) {
    const keys = key.split('.');
    let node = root;
    for (const segment of keys.slice(0, -1)) {
      const child = node[segment];
      node = (typeof child === 'object' && child !== null ? child : (node[segment] = {})) as Record<string, unknown>;
    }
    node[keys.at(-1) as string] = toPlainValue(parseDocument(env[variable] as string), (message) => `environment ${variable}: invalid YAML value: ${message}`);
  }
  if (env[TRUST_OVERRIDE_OPT_IN] !== '1') {
    const refused = overrides.filter(({ key }) => touchesTrust(key, root));
    if (refused.length > 0) {
      throw new ConfigError(
        refused.map(
          ({ variable, key }) =>
            `"${key}": set by ${variable}, but this key decides whom the gateway trusts; set it in the config file, or set ${TRUST_OVERRIDE_OPT_IN}=1 to allow overriding it from the environment`,
        ),
      );
    }
  }
  return root;
}

function touchesTrust(key: string, document: Record<string, unknown>): boolean {
  // An override of a whole section (FIELDGATE__CLOUD='{…}') sets every key below it.
  if (TRUST_KEYS.some((trusted) => trusted === key || trusted.startsWith(`${key}.`) || key.startsWith(`${trusted}.`))) return true;
  if (key !== 'cloud.url') return false;
  const cloud = document.cloud as { url?: unknown; allowInsecure?: unknown } | undefined;
  return cloud?.allowInsecure === true || (typeof cloud?.url === 'string' && /^(mqtt|ws):/i.test(cloud.url));
}

/** `DATA_DIR` → `dataDir`, `URL` → `url`. */
function envKeyToConfigKey(segment: string): string {
  return segment.toLowerCase().replace(/_([a-z0-9])/g, (_, c: string) => c.toUpperCase());
}

const PATH_KEY = /(File|Dir|^path)$/;

/** Keys named `path`, `…File` or `…Dir` are file paths, resolved against the config file's folder. */
function resolvePaths(node: unknown, baseDir: string): void {
  if (Array.isArray(node)) {
    for (const item of node) resolvePaths(item, baseDir);
    return;
  }
  if (typeof node !== 'object' || node === null) return;
  const record = node as Record<string, unknown>;
  for (const [key, value] of Object.entries(record)) {
    if (typeof value === 'string' && PATH_KEY.test(key) && !isAbsolute(value) && !value.startsWith('/dev/')) {
      record[key] = resolve(baseDir, value);
    } else {
      resolvePaths(value, baseDir);
    }
  }
}

export function parseConfigText(text: string, source: string): unknown {
  const document = parseDocument(text, { prettyErrors: true, uniqueKeys: true });
  return toPlainValue(document, (message) => `${source}: invalid YAML: ${message}`) ?? {};
}

/**
 * The document as plain values, or a ConfigError: for YAML syntax errors (in the file, or in an
 * override's value, which would otherwise become whatever the parser salvaged), and for what `toJS`
 * throws as a bare ReferenceError: an alias without an anchor, or an alias bomb.
 */
function toPlainValue(document: ReturnType<typeof parseDocument>, describe: (message: string) => string): unknown {
  if (document.errors.length > 0) throw new ConfigError(document.errors.map((e) => describe(e.message.split('\n')[0] as string)));
  try {
    return document.toJS();
  } catch (error) {
    throw new ConfigError([describe((error as Error).message)]);
  }
}

export function loadConfig(file: string, env: NodeJS.ProcessEnv = process.env): Config {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    const reason = code === 'ENOENT' ? 'file not found' : code === 'EACCES' ? 'permission denied' : String(error);
    throw new ConfigError([
      `config file "${file}": ${reason}; create one from native-config/fieldgate.example.yaml`,
    ]);
  }
  return effectiveConfig(parseConfigText(text, file), file, env);
}

/** The config the gateway runs with: the file's content plus env overrides, validated, paths resolved. */
export function effectiveConfig(parsed: unknown, file: string, env: NodeJS.ProcessEnv): Config {
  const config = validateConfig(applyEnvOverrides(parsed, env));
  resolvePaths(config, dirname(resolve(file)));
  return config;
}
