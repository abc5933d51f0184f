import type { Command } from 'commander';
import { listEnvOverrides, loadConfig } from '../config/load.js';
import { configFileFrom, DEFAULT_CONFIG_FILE } from '../config/location.js';
import { configJsonSchema } from '../shared/config/schema.js';
import { printJson } from './output.js';

export function registerConfigCommands(program: Command): void {
  const config = program.command('config').description('validate configuration');
  config
    .command('check')
    .argument('[file]', `YAML config file (default: $FIELDGATE_CONFIG or ${DEFAULT_CONFIG_FILE}, the service's)`)
    .description('validate FILE; exits non-zero and lists every problem when it is invalid')
    .action((given: string | undefined) => {
      const file = configFileFrom(given, process.env);
      const loaded = loadConfig(file);
      process.stdout.write(`${file}: OK (gateway "${loaded.gateway.id}")\n`);
      for (const { variable, key } of listEnvOverrides(process.env)) process.stdout.write(`override: ${key} from ${variable}\n`);
    });
  config
    .command('schema')
    .description('print the JSON Schema of the config file')
    .action(() => printJson(configJsonSchema()));
}
