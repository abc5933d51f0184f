import { useState } from 'preact/hooks';
import { Button } from '../components/button.js';
import { TextField } from '../components/field.js';
import { clockTime, duration, errorMessage } from '../format.js';
import { gateway, isGatewayError } from '../client/index.js';
import { now } from '../state/clock.js';
import { signIn, type SignedOutReason } from '../state/session.js';

const REASONS: Record<SignedOutReason, string> = {
  expired:
    'Your session ended: it closes after 15 minutes without activity and 12 hours after sign-in, when the password was changed elsewhere, or when the gateway restarted. Sign in again; everything you saved is kept.',
  'logged-out': 'You signed out.',
  'password-changed': 'Your password was changed. Sign in with the new one.',
};

/** Sign-in, with the lockout told in words: when the next attempt will be accepted. */
export function LoginScreen({ reason }: { reason: SignedOutReason | undefined }) {
  const [username, setUsername] = useState('');
  const [password, setPassword] = useState('');
  const [error, setError] = useState<string | undefined>();
  const [lockedUntil, setLockedUntil] = useState<number | undefined>();
  const [busy, setBusy] = useState(false);
  const locked = lockedUntil !== undefined && lockedUntil > now.value;

  const submit = async (event: Event) => {
    event.preventDefault();
    setBusy(true);
    try {
      signIn(await gateway.call('login', { username: username.trim(), password }));
    } catch (failure) {
      setPassword('');
      if (isGatewayError(failure, 'locked')) {
        setLockedUntil(Date.now() + (failure.body.retryAfterSeconds ?? 60) * 1000);
        setError(undefined);
      } else {
        setError(isGatewayError(failure, 'unauthorized') ? 'Wrong name or password.' : errorMessage(failure));
      }
    } finally {
      setBusy(false);
    }
  };

  return (
    <main class="auth">
      <form class="card" onSubmit={submit} noValidate>
        <h1>Sign in to fieldgate</h1>
        {reason && (
          <p class="notice" role="status" data-reason={reason}>
            {REASONS[reason]}
          </p>
        )}
        <TextField label="Name" name="username" value={username} onValue={setUsername} autocomplete="username" autoFocus />
        <TextField label="Password" name="password" type="password" value={password} onValue={setPassword} autocomplete="current-password" error={error} />
        {locked && lockedUntil !== undefined && (
          <p class="notice bad" role="alert" id="lockout">
            Too many wrong passwords. Sign-in is locked until {clockTime(lockedUntil)} (in {duration(lockedUntil - now.value)}). Each further failure makes
            the wait longer.
          </p>
        )}
        <Button variant="primary" type="submit" busy={busy} disabled={locked}>
          Sign in
        </Button>
      </form>
    </main>
  );
}
