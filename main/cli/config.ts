import type { Command } from 'commander';
import { listEnvOverrides, loadConfig } from '../config/load.js';
import { configFileFrom, DEFAULT_CONFIG_FILE } from '../config/location.js';
import { identityStoreFromConfig } from '../identity/from-config.js';
import { checkTokenKey } from '../identity/key-store/pkcs11-key-store.js';
import { findToken } from '../identity/key-store/pkcs11-token.js';
import type { Config } from '../shared/config/schema.js';
import { configJsonSchema } from '../shared/config/schema.js';
import { printJson } from './output.js';

/** With identity.keyStore pkcs11: the library loads and the token is there; unless `usePin` is false, one login checks the PIN and the key. */
function checkKeyToken(config: Config, usePin: boolean): string[] {
  const { pkcs11 } = config.identity;
  if (config.identity.keyStore !== 'pkcs11' || pkcs11 === undefined) return [];
  const lines = [`pkcs11: ${findToken(pkcs11)}`];
  if (usePin) lines.push(`pkcs11: ${checkTokenKey(pkcs11, identityStoreFromConfig(config).paths.key)}`);
  return lines;
}

export function registerConfigCommands(program: Command): void {
  const config = program.command('config').description('validate configuration');
  config
    .command('check')
    .argument('[file]', `YAML config file (default: $FIELDGATE_CONFIG or ${DEFAULT_CONFIG_FILE}, the service's)`)
    .option('--no-pin', 'with identity.keyStore pkcs11: check the library and the token without logging in (no PIN attempt)')
    .description('validate FILE; exits non-zero and lists every problem when it is invalid. With a PKCS#11 key store it also loads the library, finds the token and logs in once')
    .action((given: string | undefined, options: { pin: boolean }) => {
      const file = configFileFrom(given, process.env);
      const loaded = loadConfig(file);
      const tokenLines = checkKeyToken(loaded, options.pin);
      process.stdout.write(`${file}: OK (gateway "${loaded.gateway.id}")\n`);
      for (const line of tokenLines) process.stdout.write(`${line}\n`);
      for (const { variable, key } of listEnvOverrides(process.env)) process.stdout.write(`override: ${key} from ${variable}\n`);
    });
  config
    .command('schema')
    .description('print the JSON Schema of the config file')
    .action(() => printJson(configJsonSchema()));
}
