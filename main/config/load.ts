import { readFileSync } from 'node:fs';
import { dirname, isAbsolute, resolve } from 'node:path';
import { parseDocument } from 'yaml';
import { ConfigError } from '../shared/errors.js';
import type { Config } from '../shared/config/schema.js';
import { validateConfig } from './validate.js';

const ENV_PREFIX = 'FIELDGATE__';

/**
 * `FIELDGATE__CLOUD__URL=mqtts://…` sets `cloud.url`. Values are read as YAML scalars so that
 * numbers and booleans keep their types. Useful for systemd drop-ins and containers.
 */
export function applyEnvOverrides(document: unknown, env: NodeJS.ProcessEnv): unknown {
  const root = (typeof document === 'object' && document !== null ? document : {}) as Record<string, unknown>;
  for (const [name, raw] of Object.entries(env)) {
    if (!name.startsWith(ENV_PREFIX) || raw === undefined) continue;
    const keys = name.slice(ENV_PREFIX.length).split('__').map(envKeyToConfigKey);
    let node = root;
    for (const key of keys.slice(0, -1)) {
      const child = node[key];
      node = (typeof child === 'object' && child !== null ? child : (node[key] = {})) as Record<string, unknown>;
    }
    node[keys.at(-1) as string] = toPlainValue(parseDocument(raw), (message) => `environment ${name}: invalid YAML value: ${message}`);
  }
  return root;
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
