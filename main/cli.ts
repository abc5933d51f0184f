#!/usr/bin/env node
import { Command, CommanderError } from 'commander';
import { registerBleCommands } from './cli/ble.js';
import { registerConfigCommands } from './cli/config.js';
import { registerDemoCommand } from './cli/demo.js';
import { registerIdentityCommands } from './cli/identity.js';
import { registerOtaCommands } from './cli/ota.js';
import { reportFailure } from './cli/output.js';
import { registerRunCommand } from './cli/run.js';
import { registerStatusCommand } from './cli/status.js';
import { FIELDGATE_VERSION } from './shared/version.js';

const program = new Command('fieldgate')
  .description('Edge IoT gateway: sensors → durable buffer → mutual-TLS MQTT')
  .version(FIELDGATE_VERSION)
  .exitOverride()
  .showSuggestionAfterError();

registerRunCommand(program);
registerDemoCommand(program);
registerConfigCommands(program);
registerStatusCommand(program);
registerIdentityCommands(program);
registerBleCommands(program);
registerOtaCommands(program);

try {
  await program.parseAsync(process.argv);
} catch (error) {
  if (error instanceof CommanderError) {
    process.exitCode = error.exitCode;
  } else {
    process.exitCode = reportFailure(error);
  }
}
