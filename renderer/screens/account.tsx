import { useState } from 'preact/hooks';
import { Button } from '../components/button.js';
import { TextField } from '../components/field.js';
import { fieldErrors, lastSegment } from '../field-errors.js';
import { clockTime } from '../format.js';
import { call, sessionEndsAt, signOut, signedIn } from '../state/session.js';
import { PasswordRules, passwordChecks } from './password-rules.js';

export function AccountScreen() {
  const info = signedIn.value;
  const [current, setCurrent] = useState('');
  const [password, setPassword] = useState('');
  const [confirmation, setConfirmation] = useState('');
  const [errors, setErrors] = useState<Record<string, string>>({});
  const checks = passwordChecks(password, confirmation, info?.username);
  const change = async (event: Event) => {
    event.preventDefault();
    if (!checks.every((check) => check.met)) return setErrors({ newPassword: 'The new password does not meet the rules yet.' });
    try {
      await call('changePassword', { currentPassword: current, newPassword: password });
      signOut('password-changed');
    } catch (error) {
      setErrors(fieldErrors(error, (path) => ({ currentPassword: 'currentPassword', newPassword: 'newPassword' })[lastSegment(path)]));
    }
  };
  const logout = async () => {
    await call('logout', {}).catch(() => undefined);
    signOut('logged-out');
  };
  if (!info) return null;
  const endsAt = sessionEndsAt.value;
  return (
    <div class="stack">
      <h1>Account</h1>
      <section class="card stack" aria-labelledby="session-title">
        <h2 id="session-title">Session</h2>
        <dl class="facts">
          <dt>Signed in as</dt>
          <dd>
            {info.username} ({info.role})
          </dd>
          <dt>Ends</dt>
          <dd>
            {info.localWindow
              ? 'never: this is the box’s own trusted window'
              : `at ${endsAt ? clockTime(endsAt) : '?'} if idle (15 minutes without activity), at the latest ${clockTime(info.expiresAt)} (12 hours after sign-in)`}
          </dd>
        </dl>
        <div>
          <Button onClick={() => void logout()}>Sign out</Button>
        </div>
      </section>
      <form class="card stack" onSubmit={change} noValidate aria-labelledby="password-title">
        <h2 id="password-title">Change your password</h2>
        <p class="muted">Your other sessions end when the password changes.</p>
        <div class="stack narrow">
          <TextField label="Current password" name="currentPassword" type="password" value={current} onValue={setCurrent} error={errors.currentPassword} autocomplete="current-password" />
          <TextField label="New password" name="newPassword" type="password" value={password} onValue={setPassword} error={errors.newPassword} autocomplete="new-password" />
          <TextField label="Repeat the new password" name="confirmation" type="password" value={confirmation} onValue={setConfirmation} autocomplete="new-password" />
        </div>
        <PasswordRules checks={checks} id="change-rules" />
        {errors.form && <p class="notice bad">{errors.form}</p>}
        <div>
          <Button variant="primary" type="submit">
            Change password
          </Button>
        </div>
      </form>
    </div>
  );
}
