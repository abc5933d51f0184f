import { ConfigError, UserError } from '../shared/errors.js';

/** One clear line (or a short list for config problems) on stderr; never a stack for expected failures. */
export function reportFailure(error: unknown): number {
  if (error instanceof ConfigError) {
    process.stderr.write(`fieldgate: invalid config:\n  ${error.problems.join('\n  ')}\n`);
    return 2;
  }
  if (error instanceof UserError) {
    process.stderr.write(`fieldgate: ${error.message}\n`);
    return error.exitCode;
  }
  process.stderr.write(`fieldgate: unexpected error: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}\n`);
  return 1;
}

export function printJson(value: unknown): void {
  process.stdout.write(`${JSON.stringify(value, null, 2)}\n`);
}
