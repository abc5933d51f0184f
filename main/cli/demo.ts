import type { Command } from 'commander';
import { UserError } from '../shared/errors.js';

export function registerDemoCommand(program: Command): void {
  program
    .command('demo')
    .description('run an embedded demo: local CA, in-process mTLS broker, simulated sensors')
    .action(() => {
      throw new UserError('demo: under construction');
    });
}
