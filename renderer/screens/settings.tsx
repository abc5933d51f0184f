import { useEffect, useRef, useState } from 'preact/hooks';
import { ROLES, type MethodResult, type Role, type User } from '../../main/shared/api.js';
import { Button } from '../components/button.js';
import { ConfirmDialog, Dialog } from '../components/dialog.js';
import { SelectField, TextField } from '../components/field.js';
import { SchemaFields, type JsonSchema } from '../components/schema-form.js';
import { showToast } from '../components/toasts.js';
import { fieldErrors, lastSegment } from '../field-errors.js';
import { errorMessage } from '../format.js';
import { mergePatch } from '../merge-patch.js';
import { isGatewayError } from '../client/index.js';
import { call, signedIn } from '../state/session.js';
import { PasswordRules, passwordChecks } from './password-rules.js';

type Json = Record<string, unknown>;
/** Cloud and sensors have their own screens; the rest are edited here. */
const SECTIONS = ['gateway', 'log', 'buffer', 'identity', 'ota', 'ui'] as const;
const ROLE_OPTIONS = ROLES.map((role) => ({ value: role, label: role }));

function AddUser({ onAdded }: { onAdded: () => void }) {
  const [username, setUsername] = useState('');
  const [role, setRole] = useState<Role>('technician');
  const [password, setPassword] = useState('');
  const [confirmation, setConfirmation] = useState('');
  const [errors, setErrors] = useState<Record<string, string>>({});
  const checks = passwordChecks(password, confirmation, username);
  const submit = async (event: Event) => {
    event.preventDefault();
    if (!checks.every((check) => check.met)) return setErrors({ password: 'The password does not meet the rules yet.' });
    try {
      await call('addUser', { username, role, password });
      showToast(`Added ${username} (${role})`);
      setUsername('');
      setPassword('');
      setConfirmation('');
      setErrors({});
      onAdded();
    } catch (error) {
      setErrors(fieldErrors(error, (path) => ({ username: 'username', password: 'password', role: 'role' })[lastSegment(path)]));
    }
  };
  return (
    <form class="stack" onSubmit={submit} noValidate aria-labelledby="add-user-title">
      <h3 id="add-user-title">Add a user</h3>
      <div class="form-grid">
        <TextField label="Name" name="new-username" value={username} onValue={setUsername} error={errors.username} autocomplete="off" />
        <SelectField label="Role" name="role" value={role} options={ROLE_OPTIONS} onValue={setRole} error={errors.role} hint="Technicians pair sensors and read logs; admins also change cloud, updates and settings." />
        <TextField label="Password" name="new-password" type="password" value={password} onValue={setPassword} error={errors.password} autocomplete="new-password" />
        <TextField label="Repeat the password" name="new-confirmation" type="password" value={confirmation} onValue={setConfirmation} autocomplete="new-password" />
      </div>
      <PasswordRules checks={checks} id="add-user-rules" />
      {errors.form && <p class="notice bad">{errors.form}</p>}
      <div>
        <Button variant="primary" type="submit">
          Add user
        </Button>
      </div>
    </form>
  );
}

function ResetPassword({ user, onClose }: { user: User; onClose: () => void }) {
  const [password, setPassword] = useState('');
  const [confirmation, setConfirmation] = useState('');
  const [error, setError] = useState<string | undefined>();
  const checks = passwordChecks(password, confirmation, user.username);
  const submit = async (event: Event) => {
    event.preventDefault();
    if (!checks.every((check) => check.met)) return setError('The password does not meet the rules yet.');
    try {
      await call('resetPassword', { username: user.username, password });
      showToast(`New password set for ${user.username}; their sessions ended`);
      onClose();
    } catch (failure) {
      setError(errorMessage(failure));
    }
  };
  return (
    <form class="stack" onSubmit={submit} noValidate>
      <TextField label="New password" name="reset-password" type="password" value={password} onValue={setPassword} error={error} autocomplete="new-password" />
      <TextField label="Repeat the password" name="reset-confirmation" type="password" value={confirmation} onValue={setConfirmation} autocomplete="new-password" />
      <PasswordRules checks={checks} id="reset-rules" />
      <div class="row end">
        <Button onClick={onClose}>Cancel</Button>
        <Button variant="primary" type="submit">
          Set password
        </Button>
      </div>
    </form>
  );
}

function Users() {
  const [users, setUsers] = useState<User[]>([]);
  const [error, setError] = useState<string | undefined>();
  const [removing, setRemoving] = useState<User | undefined>();
  const [resetting, setResetting] = useState<User | undefined>();
  const me = signedIn.value?.username;
  const load = () => call('users', {}).then((result) => setUsers(result.users), (failure) => setError(errorMessage(failure)));
  useEffect(() => void load(), []);
  const remove = async () => {
    const user = removing;
    setRemoving(undefined);
    if (!user) return;
    try {
      await call('removeUser', { username: user.username });
      showToast(`Removed ${user.username}`);
      await load();
    } catch (failure) {
      setError(errorMessage(failure));
    }
  };
  return (
    <section class="card stack" aria-labelledby="users-title">
      <h2 id="users-title">Users</h2>
      {error && <p class="notice bad">{error}</p>}
      <div class="table-wrap">
        <table id="users">
          <thead>
            <tr>
              <th scope="col">Name</th>
              <th scope="col">Role</th>
              <th scope="col">
                <span class="visually-hidden">Actions</span>
              </th>
            </tr>
          </thead>
          <tbody>
            {users.map((user) => (
              <tr key={user.username} data-user={user.username}>
                <th scope="row">{user.username}</th>
                <td>{user.role}</td>
                <td>
                  <span class="row">
                    <Button onClick={() => setResetting(user)} aria-label={`Set a new password for ${user.username}`}>
                      New password
                    </Button>
                    {user.username !== me && (
                      <Button variant="danger" onClick={() => setRemoving(user)} aria-label={`Remove ${user.username}`}>
                        Remove
                      </Button>
                    )}
                  </span>
                </td>
              </tr>
            ))}
          </tbody>
        </table>
      </div>
      <AddUser onAdded={() => void load()} />
      <ConfirmDialog
        open={removing !== undefined}
        title={`Remove ${removing?.username ?? ''}?`}
        message="They can no longer sign in, and their open sessions end."
        confirmLabel="Remove"
        onConfirm={() => void remove()}
        onCancel={() => setRemoving(undefined)}
      />
      <Dialog open={resetting !== undefined} title={`New password for ${resetting?.username ?? ''}`} onClose={() => setResetting(undefined)}>
        {resetting && <ResetPassword user={resetting} onClose={() => setResetting(undefined)} />}
      </Dialog>
    </section>
  );
}

function ConfigSection({ name, schema, config, version, onSaved }: { name: string; schema: JsonSchema; config: Json; version: string; onSaved: () => void }) {
  const original = (config[name] as Json | undefined) ?? {};
  const [value, setValue] = useState<Json>(original);
  const [errors, setErrors] = useState<Record<string, string>>({});
  const [busy, setBusy] = useState(false);
  const form = useRef<HTMLFormElement>(null);
  useEffect(() => setValue(original), [version]);
  // The field an error names may be far up a long form: bring it into view.
  useEffect(() => form.current?.querySelector<HTMLElement>('[aria-invalid="true"]')?.focus(), [errors]);
  const save = async (event: Event) => {
    event.preventDefault();
    setBusy(true);
    setErrors({});
    try {
      await call('updateConfig', { patch: { [name]: mergePatch(original, value) }, version });
      showToast(`Saved ${name}; only the parts that changed restart`);
      onSaved();
    } catch (error) {
      if (isGatewayError(error, 'conflict')) setErrors({ form: 'The configuration changed since this page loaded (someone else saved, or the file was edited). Reload it, then make your change again.' });
      else setErrors(fieldErrors(error, (path) => (path.startsWith(`${name}.`) ? path : undefined)));
    } finally {
      setBusy(false);
    }
  };
  return (
    <form ref={form} class="card stack" onSubmit={save} noValidate aria-labelledby={`section-${name}`} data-section={name}>
      <h2 id={`section-${name}`}>
        <code>{name}</code>
      </h2>
      {schema.description && <p class="muted">{schema.description}</p>}
      <SchemaFields schema={schema} value={value} path={name} errors={errors} onChange={setValue} />
      {errors.form && (
        <p class="notice bad" role="alert">
          {errors.form}
        </p>
      )}
      <div class="row">
        <Button variant="primary" type="submit" busy={busy}>
          Save {name}
        </Button>
        <Button onClick={() => setValue(original)}>Undo changes</Button>
      </div>
    </form>
  );
}

function ConfigForms() {
  const [loaded, setLoaded] = useState<{ config: MethodResult<'config'>; schema: JsonSchema } | undefined>();
  const [error, setError] = useState<string | undefined>();
  const load = () =>
    Promise.all([call('config', {}), call('schema', {})]).then(
      ([config, schema]) => setLoaded({ config, schema: schema.schema as JsonSchema }),
      (failure) => setError(errorMessage(failure)),
    );
  useEffect(() => void load(), []);
  if (error) return <p class="notice bad">{error}</p>;
  if (!loaded) return <p>Loading the configuration…</p>;
  return (
    <>
      <p class="muted">
        {loaded.config.file ? (
          <>
            From <code>{loaded.config.file}</code>.{' '}
          </>
        ) : null}
        Saving validates the change, writes the file (its comments are kept) and restarts only what changed. Cloud and
        sensors have their own screens.
      </p>
      {SECTIONS.map((name) => {
        const schema = loaded.schema.properties?.[name];
        return schema ? <ConfigSection key={name} name={name} schema={schema} config={loaded.config.config} version={loaded.config.version} onSaved={() => void load()} /> : null;
      })}
    </>
  );
}

export function SettingsScreen() {
  return (
    <div class="stack">
      <h1>Settings</h1>
      <Users />
      <ConfigForms />
    </div>
  );
}
