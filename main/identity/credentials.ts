import type { Clock } from '../shared/clock.js';
import type { TlsCredentials } from '../shared/tls.js';
import type { IdentityAlertSink } from './alerts.js';
import { HardwareKeyError } from './errors.js';
import type { IdentityStore, LoadedIdentity } from './store.js';

const DEFAULT_HARDWARE_RETRY_MS = 15 * 60_000;

export interface IdentityCredentialsDeps {
  store: IdentityStore;
  clock: Clock;
  /** After the token refused (wrong PIN, missing token or library), it is left alone this long (identity.pkcs11.retryIntervalMs, default 15 min). */
  hardwareRetryMs?: number;
  onAlert?: IdentityAlertSink;
}

/**
 * The uplink's credential provider. Normally it loads (and re-checks) the current identity at
 * every connect; during a rotation trial it hands out the candidate until the trial ends.
 *
 * A token key is loaded once through the engine before it is handed out, so a token problem is
 * reported as `hardware-key-unavailable`. After one, the token is not touched again until
 * `hardwareRetryMs` has passed (a restart tries at once): each attempt may count against a real
 * token's PIN retry limit.
 */
export class IdentityCredentials {
  private candidate: LoadedIdentity | undefined;
  private hardwareFailure: HardwareKeyError | undefined;
  private tokenUsed = false;

  constructor(private readonly deps: IdentityCredentialsDeps) {}

  /** Pass this to the uplink as its `credentials`. */
  readonly provide = async (): Promise<TlsCredentials> => {
    const now = this.deps.clock.now();
    if (this.hardwareFailure?.retryAt !== undefined && now < this.hardwareFailure.retryAt) throw this.hardwareFailure;
    const identity = this.candidate ?? this.deps.store.load(now);
    try {
      this.deps.store.keyStore.assertUsable(identity.certPem, identity.key);
    } catch (error) {
      if (error instanceof HardwareKeyError) throw this.holdOff(error, now);
      throw error;
    }
    // The first success also ends an alert an earlier run left active (alerts outlive restarts).
    if (this.hardwareFailure !== undefined || (!this.tokenUsed && this.deps.store.keyStore.summary.hardwareBacked)) {
      this.deps.onAlert?.({ kind: 'hardware-key-restored', severity: 'info', message: 'the token holding the device key works again', ts: now });
    }
    this.hardwareFailure = undefined;
    this.tokenUsed = true;
    return this.deps.store.credentials(identity);
  };

  private holdOff(error: HardwareKeyError, now: number): HardwareKeyError {
    const retryAt = now + (this.deps.hardwareRetryMs ?? DEFAULT_HARDWARE_RETRY_MS);
    const held = new HardwareKeyError(`${error.message}; fieldgate leaves the token alone until ${new Date(retryAt).toISOString()} (restart the service to try at once)`, retryAt);
    this.hardwareFailure = held;
    this.deps.onAlert?.({ kind: 'hardware-key-unavailable', severity: 'critical', message: held.message, ts: now });
    return held;
  }

  tryCandidate(candidate: LoadedIdentity): void {
    this.candidate = candidate;
  }

  useCurrent(): void {
    this.candidate = undefined;
  }

  get onTrial(): boolean {
    return this.candidate !== undefined;
  }
}
