import type { Command } from 'commander';

export function registerDemoCommand(program: Command): void {
  program
    .command('demo')
    .description('run the embedded demo: local CA, in-process mutual-TLS broker, simulated sensors, setup UI')
    .option('--data-dir <dir>', 'where the demo keeps its CA, buffer and config', '.fieldgate-demo')
    .option('--ui-port <port>', 'port of the setup UI on 127.0.0.1 (0 picks a free one)', (v) => Number.parseInt(v, 10), 8080)
    .option('--log-level <level>', 'JSON log lines on stdout at this level and above', 'warn')
    .action(async (options: { dataDir: string; uiPort: number; logLevel: string }) => {
      // Loaded here so that every other command starts without the whole gateway (seconds on a Pi).
      const { runDemo } = await import('../demo/demo.js');
      await runDemo(options);
    });
}
