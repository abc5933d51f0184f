#!/usr/bin/env node
import { Command, CommanderError } from 'commander';
import { registerConfigCommands } from './cli/config.js';
import { registerDemoCommand } from './cli/demo.js';
import { registerPendingCommand } from './cli/not-yet.js';
import { reportFailure } from './cli/output.js';
import { registerRunCommand } from './cli/run.js';
import { FIELDGATE_VERSION } from './shared/version.js';

const program = new Command('fieldgate')
  .description('Edge IoT gateway: sensors → durable buffer → mutual-TLS MQTT')
  .version(FIELDGATE_VERSION)
  .exitOverride()
  .showSuggestionAfterError();

registerRunCommand(program);
registerDemoCommand(program);
registerConfigCommands(program);
registerPendingCommand(program, 'status', 'show the running service');
registerPendingCommand(program, 'identity', 'device key, CSR, certificate: csr | show | wipe');
registerPendingCommand(program, 'ble', 'BLE tools: decode one advertisement');
registerPendingCommand(program, 'ota', 'signed updates: keygen | sign | verify | install');

try {
  await program.parseAsync(process.argv);
} catch (error) {
  if (error instanceof CommanderError) {
    process.exitCode = error.exitCode;
  } else {
    process.exitCode = reportFailure(error);
  }
}
