import type { Clock } from '../shared/clock.js';
import type { TlsCredentials } from '../shared/tls.js';
import type { IdentityStore, LoadedIdentity } from './store.js';

/**
 * The uplink's credential provider. Normally it loads (and re-checks) the current identity at
 * every connect; during a rotation trial it hands out the candidate until the trial ends.
 */
export class IdentityCredentials {
  private candidate: LoadedIdentity | undefined;

  constructor(private readonly deps: { store: IdentityStore; clock: Clock }) {}

  /** Pass this to the uplink as its `credentials`. */
  readonly provide = async (): Promise<TlsCredentials> => {
    const identity = this.candidate ?? this.deps.store.load(this.deps.clock.now());
    return this.deps.store.credentials(identity);
  };

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
