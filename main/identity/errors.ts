import { UserError } from '../shared/errors.js';

export type IdentityProblem =
  | 'missing'
  | 'permissions'
  | 'key-mismatch'
  | 'untrusted'
  | 'not-yet-valid'
  | 'expired'
  | 'wrong-subject'
  | 'malformed'
  | 'hardware-key-unavailable';

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

/**
 * The token holding the device key cannot be used now: it refused the PIN, is not present, or its
 * library does not load. The message names the fix. `retryAt` is set once the gateway has stopped
 * using the token until then, so a real token does not lock out.
 */
export class HardwareKeyError extends IdentityError {
  constructor(
    message: string,
    readonly retryAt?: number,
  ) {
    super('hardware-key-unavailable', message);
    this.name = 'HardwareKeyError';
  }
}
