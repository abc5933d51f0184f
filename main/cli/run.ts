import type { Command } from 'commander';
import { loadConfig } from '../config/load.js';
import { createLogger } from '../log/logger.js';
import { runUntilSignalled } from '../service/run.js';

export function registerRunCommand(program: Command): void {
  program
    .command('run')
    .description('run the gateway headless (as the systemd service does)')
    .requiredOption('-c, --config <file>', 'YAML config file')
    .action(async (options: { config: string }) => {
      const config = loadConfig(options.config);
      await runUntilSignalled(config, createLogger({ level: config.log.level }));
    });
}
