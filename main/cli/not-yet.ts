import type { Command } from 'commander';
import { UserError } from '../shared/errors.js';

/** Commands whose issues have not landed yet: they exist so `--help` shows the whole CLI. */
export function registerPendingCommand(program: Command, name: string, description: string): void {
  program
    .command(name)
    .description(`${description} (not yet available)`)
    .allowUnknownOption()
    .allowExcessArguments()
    .action(() => {
      throw new UserError(`"${name}" is not yet available in this version`);
    });
}
