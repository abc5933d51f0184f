import { PASSWORD_MIN_LENGTH } from '../../main/shared/api.js';

export interface PasswordCheck {
  label: string;
  met: boolean;
}

/** The rules the server enforces, checked as the user types (the common-password list is the server's). */
export function passwordChecks(password: string, confirmation: string, username?: string): PasswordCheck[] {
  const name = username?.trim().toLowerCase() ?? '';
  return [
    { label: `At least ${PASSWORD_MIN_LENGTH} characters (${password.length} so far)`, met: password.length >= PASSWORD_MIN_LENGTH },
    ...(name.length >= 4 ? [{ label: `Does not contain the name "${name}"`, met: password.length > 0 && !password.toLowerCase().includes(name) }] : []),
    { label: 'Both entries match', met: password.length > 0 && password === confirmation },
  ];
}

export function PasswordRules({ checks, id }: { checks: PasswordCheck[]; id: string }) {
  return (
    <div id={id}>
      <ul class="rules" aria-label="Password rules">
        {checks.map((check) => (
          <li key={check.label} class={check.met ? 'met' : undefined}>
            <span class="visually-hidden">{check.met ? 'Met:' : 'Not met yet:'}</span>
            {check.label}
          </li>
        ))}
      </ul>
      <p class="hint muted">Common passwords such as "password123456" are refused when you save.</p>
    </div>
  );
}
