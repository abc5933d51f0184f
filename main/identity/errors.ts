import { UserError } from '../shared/errors.js';

export type IdentityProblem =
  | 'missing'
  | 'permissions'
  | 'key-mismatch'
  | 'untrusted'
  | 'not-yet-valid'
  | 'expired'
  | 'wrong-subject'
  | 'malformed';

/** An identity problem the operator can act on; `problem` lets callers (rotation, tests) tell them apart. */
export class IdentityError extends UserError {
  constructor(
    readonly problem: IdentityProblem,
    message: string,
  ) {
    super(message);
    this.name = 'IdentityError';
  }
}
