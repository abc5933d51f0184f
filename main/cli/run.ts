import type { Command } from 'commander';
import { loadConfig } from '../config/load.js';
import { configFileFrom, DEFAULT_CONFIG_FILE } from '../config/location.js';
import { LogRing } from '../log/log-ring.js';
import { createLogger } from '../log/logger.js';

export function registerRunCommand(program: Command): void {
  program
    .command('run')
    .description('run the gateway headless (as the systemd service does); SIGHUP reloads the config')
    .option('-c, --config <file>', `YAML config file (default: $FIELDGATE_CONFIG or ${DEFAULT_CONFIG_FILE})`)
    .action(async (options: { config?: string }) => {
      const file = configFileFrom(options.config, process.env);
      const config = loadConfig(file);
      // Loaded here so that every other command starts without the whole gateway (seconds on a Pi).
      const { runUntilSignalled } = await import('../service/run.js');
      const logs = new LogRing();
      await runUntilSignalled(config, createLogger({ level: config.log.level, ring: logs }), { logs, configFile: file });
    });
}
