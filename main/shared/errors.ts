/** A configuration problem: every entry names the key path, the bad value and what is allowed. */
export class ConfigError extends Error {
  constructor(readonly problems: string[]) {
    super(problems.length === 1 ? problems[0] : `${problems.length} problems in config:\n  ${problems.join('\n  ')}`);
    this.name = 'ConfigError';
  }
}

/** An error whose message is meant for the operator as is: the CLI prints it without a stack. */
export class UserError extends Error {
  constructor(message: string, readonly exitCode = 1) {
    super(message);
    this.name = 'UserError';
  }
}
