import { useState } from 'preact/hooks';
import { Button } from '../components/button.js';
import { TextField } from '../components/field.js';
import { errorMessage } from '../format.js';
import { gateway, isGatewayError } from '../client/index.js';
import { signIn } from '../state/session.js';
import { PasswordRules, passwordChecks } from './password-rules.js';

interface FirstRunProps {
  where: string;
  codeExpiresAt: string | null;
  /** Only in the box's own window: the code itself, shown on its screen. */
  shownCode: string | undefined;
}

/** First start: trade the one-time setup code for the first admin account. */
export function FirstRunScreen({ where, codeExpiresAt, shownCode }: FirstRunProps) {
  const [step, setStep] = useState<'code' | 'password'>('code');
  const [code, setCode] = useState(shownCode ?? '');
  const [username, setUsername] = useState('admin');
  const [password, setPassword] = useState('');
  const [confirmation, setConfirmation] = useState('');
  const [errors, setErrors] = useState<Record<string, string>>({});
  const [busy, setBusy] = useState(false);
  const checks = passwordChecks(password, confirmation, username);

  const submit = async (event: Event) => {
    event.preventDefault();
    if (step === 'code') {
      if (code.trim().length < 10) return setErrors({ code: 'The setup code has at least 10 characters.' });
      setErrors({});
      return setStep('password');
    }
    if (!checks.every((check) => check.met)) return setErrors({ password: 'The password does not meet the rules yet.' });
    setBusy(true);
    try {
      signIn(await gateway.call('completeSetup', { code: code.trim(), username, password }));
      location.hash = '#/overview';
    } catch (error) {
      const field = isGatewayError(error) ? error.body.field : undefined;
      if (field === 'code' || (isGatewayError(error) && /code/i.test(error.message) && field === undefined)) {
        setStep('code');
        setErrors({ code: errorMessage(error) });
      } else setErrors({ [field === 'username' ? 'username' : 'password']: errorMessage(error) });
    } finally {
      setBusy(false);
    }
  };

  return (
    <main class="auth">
      <form class="card" onSubmit={submit} noValidate data-step={step}>
        <h1>Set up this gateway</h1>
        {step === 'code' ? (
          <>
            <p>
              This gateway has no administrator yet. Enter the one-time setup code. {where}
              {codeExpiresAt && ` The code works once and expires at ${new Date(codeExpiresAt).toLocaleString()}.`}
            </p>
            {shownCode && (
              <p class="notice" id="shown-code">
                This box's setup code: <strong class="mono">{shownCode}</strong>
              </p>
            )}
            <TextField label="Setup code" name="code" value={code} onValue={setCode} error={errors.code} autocomplete="off" spellcheck={false} autoFocus />
            <Button variant="primary" type="submit">
              Next
            </Button>
          </>
        ) : (
          <>
            <p>Choose the administrator's name and password.</p>
            <TextField label="Administrator name" name="username" value={username} onValue={setUsername} error={errors.username} autocomplete="username" />
            <TextField
              label="New password"
              name="password"
              type="password"
              value={password}
              onValue={setPassword}
              error={errors.password}
              autocomplete="new-password"
              aria-describedby="password-rules"
              autoFocus
            />
            <TextField label="Repeat the password" name="confirmation" type="password" value={confirmation} onValue={setConfirmation} autocomplete="new-password" />
            <PasswordRules checks={checks} id="password-rules" />
            <div class="row">
              <Button onClick={() => setStep('code')}>Back</Button>
              <Button variant="primary" type="submit" busy={busy}>
                Create administrator
              </Button>
            </div>
          </>
        )}
      </form>
    </main>
  );
}
