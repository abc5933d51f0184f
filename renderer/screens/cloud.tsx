import { useEffect, useRef, useState } from 'preact/hooks';
import type { CloudTestResult, IdentityView, MethodInput } from '../../main/shared/api.js';
import type { CloudProfileName } from '../../main/shared/config/cloud-profiles.js';
import { cloudSchema } from '../../main/shared/config/cloud.js';
import { Button } from '../components/button.js';
import { FieldFrame, TextField } from '../components/field.js';
import { StatusDot } from '../components/status-dot.js';
import { showToast } from '../components/toasts.js';
import { downloadText, readFileText } from '../download.js';
import { fieldErrors, lastSegment } from '../field-errors.js';
import { errorMessage } from '../format.js';
import { resync, status } from '../state/live.js';
import { call } from '../state/session.js';
import { UPLINK_ERROR_WORDS } from '../uplink-words.js';
import { PlatformChoice, platformNotes, urlPlaceholder } from './cloud-platform.js';

type CloudSettings = MethodInput<'saveCloud'>['settings'];

function TestResult({ result }: { result: CloudTestResult }) {
  if (result.ok) {
    return (
      <div class="notice good" role="status" id="cloud-test-result" data-ok="true">
        <StatusDot tone="ok" label={`Connected to ${result.broker}`} />
        <p>{result.message}</p>
      </div>
    );
  }
  return (
    <div class="notice bad" role="alert" id="cloud-test-result" data-ok="false" data-kind={result.kind}>
      <p>
        <strong>{UPLINK_ERROR_WORDS[result.kind]}</strong> <code>{result.kind}</code>
      </p>
      <p>{result.message}</p>
      <p>
        <strong>Fix:</strong> {result.hint}
      </p>
    </div>
  );
}

/** The broker form's fields, named as the last segment of their config key. */
const BROKER_FIELDS = ['profile', 'url', 'clientId', 'topicPrefix', 'accessTokenFile', 'caFile', 'certFile', 'keyFile', 'maxReadings', 'maxBytes', 'inFlight'];
/** The schema's defaults: the empty number fields show them, and they are not carried over from the saved settings. */
const DEFAULTS = cloudSchema.parse({ url: 'mqtts://defaults.invalid', caFile: '/defaults' });

/**
 * The saved settings without the values that are only the schema's defaults (the API fills them
 * in), one level deep: after a switch of platform, the new one's defaults (e.g. its MQTT version) apply.
 */
function withoutDefaults(settings: CloudSettings): CloudSettings {
  const differing = (values: object, defaults: unknown) => Object.entries(values).filter(([key, value]) => value !== (defaults as Record<string, unknown> | undefined)?.[key]);
  const defaults = DEFAULTS as Record<string, unknown>;
  return Object.fromEntries(differing(settings, defaults).map(([key, value]) => [key, typeof value === 'object' && value !== null ? Object.fromEntries(differing(value, defaults[key])) : value])) as CloudSettings;
}

function BrokerForm() {
  const [settings, setSettings] = useState<CloudSettings | undefined>();
  const [profile, setProfile] = useState<CloudProfileName>('generic');
  const [url, setUrl] = useState('');
  const [clientId, setClientId] = useState('');
  const [topicPrefix, setTopicPrefix] = useState('');
  const [accessTokenFile, setAccessTokenFile] = useState('');
  const [caFile, setCaFile] = useState('');
  const [certFile, setCertFile] = useState('');
  const [keyFile, setKeyFile] = useState('');
  const [maxReadings, setMaxReadings] = useState('');
  const [maxBytes, setMaxBytes] = useState('');
  const [inFlight, setInFlight] = useState('');
  const [errors, setErrors] = useState<Record<string, string>>({});
  const [result, setResult] = useState<CloudTestResult | undefined>();
  const [busy, setBusy] = useState<'test' | 'save' | 'ca' | undefined>();
  const form = useRef<HTMLFormElement>(null);
  // The field an error names may be far above the buttons (on the touchscreen): go to the first one.
  useEffect(() => form.current?.querySelector<HTMLElement>('[aria-invalid="true"]')?.focus(), [errors]);

  useEffect(() => {
    call('cloud', {}).then(
      ({ settings: saved }) => {
        if (saved) {
          const current = withoutDefaults(saved);
          setSettings(current);
          setProfile(current.profile ?? 'generic');
          setUrl(current.url);
          setClientId(current.clientId ?? '');
          setTopicPrefix(current.topicPrefix ?? '');
          setAccessTokenFile(current.accessTokenFile ?? '');
          setCaFile(current.caFile ?? '');
          setCertFile(current.certFile ?? '');
          setKeyFile(current.keyFile ?? '');
          setMaxReadings(String(current.batch?.maxReadings ?? ''));
          setMaxBytes(String(current.batch?.maxBytes ?? ''));
          setInFlight(String(current.inFlight ?? ''));
        }
      },
      (error) => setErrors(fieldErrors(error, () => undefined)),
    );
  }, []);

  const notes = platformNotes(profile);
  const gatewayId = status.value?.gatewayId ?? '';

  /** The saved settings with this form's fields; an emptied field drops its key (a number takes its default), and so do a client id or topic prefix the platform sets itself and an access token it does not take. */
  const proposed = (): CloudSettings => {
    const count = (text: string) => (text.trim() === '' ? undefined : Number(text));
    const next: CloudSettings = {
      ...(settings ?? {}),
      profile,
      url,
      batch: { ...settings?.batch, maxReadings: count(maxReadings), maxBytes: count(maxBytes) },
      inFlight: count(inFlight),
    };
    for (const [key, value] of [['caFile', caFile], ['certFile', certFile], ['keyFile', keyFile], ['clientId', notes.fixedClientId ? '' : clientId], ['topicPrefix', notes.fixedTopics ? '' : topicPrefix], ['accessTokenFile', notes.accessTokenHint ? accessTokenFile : '']] as const) {
      if (value) next[key] = value;
      else delete next[key];
    }
    return next;
  };
  /** Where an API error goes; `gateway.id` is the client id on a platform that sets it (the thing name on AWS IoT Core). */
  const localKey = (path: string) => (path === 'gateway.id' && notes.fixedClientId ? 'clientId' : BROKER_FIELDS.find((field) => field === lastSegment(path)));

  /** The last check's errors and test result were about the other platform. */
  const choosePlatform = (next: CloudProfileName) => {
    setProfile(next);
    setErrors({});
    setResult(undefined);
  };

  const uploadCa = async (input: HTMLInputElement) => {
    const pem = await readFileText(input);
    if (!pem) return;
    setBusy('ca');
    try {
      const stored = await call('uploadCa', { pem });
      setCaFile(stored.caFile);
      setErrors({});
      showToast(`CA stored: ${stored.subjects.join(', ')}`);
    } catch (error) {
      setErrors({ caUpload: errorMessage(error) });
    } finally {
      setBusy(undefined);
      input.value = '';
    }
  };

  const test = async () => {
    setBusy('test');
    setErrors({});
    setResult(undefined);
    try {
      setResult(await call('testCloud', { settings: proposed() }));
    } catch (error) {
      setErrors(fieldErrors(error, localKey));
    } finally {
      setBusy(undefined);
    }
  };

  const save = async (event: Event) => {
    event.preventDefault();
    setBusy('save');
    setErrors({});
    try {
      await call('saveCloud', { settings: proposed() });
      showToast('Cloud settings saved; the uplink reconnects with them');
      await resync().catch(() => undefined);
    } catch (error) {
      setErrors(fieldErrors(error, localKey));
    } finally {
      setBusy(undefined);
    }
  };

  return (
    <form ref={form} class="card stack" onSubmit={save} noValidate aria-labelledby="broker-title">
      <h2 id="broker-title">Broker</h2>
      <PlatformChoice value={profile} onValue={choosePlatform} error={errors.profile} />
      <TextField label="Broker URL" name="url" value={url} onValue={setUrl} error={errors.url} placeholder={urlPlaceholder(profile)} spellcheck={false} />
      {notes.fixedClientId ? (
        <TextField label="Client id" name="clientId" value={gatewayId} onValue={() => undefined} error={errors.clientId} readOnly hint={`Set by ${notes.title}: ${notes.fixedClientId} (gateway.id under Settings).`} />
      ) : (
        <TextField label="Client id" name="clientId" value={clientId} onValue={setClientId} error={errors.clientId} placeholder={gatewayId} spellcheck={false} hint="Leave empty to use the gateway id." />
      )}
      {!notes.fixedTopics && (
        <TextField label="Topic prefix" name="topicPrefix" value={topicPrefix} onValue={setTopicPrefix} error={errors.topicPrefix} placeholder={DEFAULTS.topicPrefix} spellcheck={false} hint="The first topic level, before the gateway id." />
      )}
      {notes.accessTokenHint && <TextField label="Access token file" name="accessTokenFile" value={accessTokenFile} onValue={setAccessTokenFile} error={errors.accessTokenFile} spellcheck={false} hint={notes.accessTokenHint} />}
      <TextField label="CA file on the gateway" name="caFile" value={caFile} onValue={setCaFile} error={errors.caFile} hint="The PEM of the CA that signed the broker's certificate. Upload one below." />
      <div class="form-grid pair">
        <TextField label="Client certificate file" name="certFile" value={certFile} onValue={setCertFile} error={errors.certFile} hint="Leave both empty to use this box's own identity." />
        <TextField label="Client key file" name="keyFile" value={keyFile} onValue={setKeyFile} error={errors.keyFile} />
      </div>
      <FieldFrame label="Upload a CA certificate (PEM)" error={errors.caUpload}>
        {({ id, describedBy }) => (
          <input id={id} type="file" accept=".pem,.crt,.cer,application/x-pem-file" aria-describedby={describedBy} onChange={(event) => void uploadCa(event.currentTarget)} />
        )}
      </FieldFrame>
      <fieldset>
        <legend>Sending</legend>
        <div class="form-grid">
          <TextField label="Readings / message" name="maxReadings" type="number" inputMode="numeric" min={1} placeholder={String(DEFAULTS.batch.maxReadings)} value={maxReadings} onValue={setMaxReadings} error={errors.maxReadings} />
          <TextField label="Bytes / message" name="maxBytes" type="number" inputMode="numeric" min={256} placeholder={String(DEFAULTS.batch.maxBytes)} value={maxBytes} onValue={setMaxBytes} error={errors.maxBytes} />
          <TextField label="In flight" name="inFlight" type="number" inputMode="numeric" min={1} placeholder={String(DEFAULTS.inFlight)} value={inFlight} onValue={setInFlight} error={errors.inFlight} hint="Messages awaiting PUBACK." />
        </div>
        <p class="hint">Empty fields take the default shown in them.</p>
      </fieldset>
      {errors.form && (
        <p class="notice bad" role="alert">
          {errors.form}
        </p>
      )}
      {result && <TestResult result={result} />}
      <div class="row">
        <Button onClick={() => void test()} busy={busy === 'test'}>
          Test connection
        </Button>
        <Button variant="primary" type="submit" busy={busy === 'save'}>
          Save
        </Button>
      </div>
    </form>
  );
}

function IdentityCard() {
  const [identity, setIdentity] = useState<IdentityView | undefined>();
  const [pem, setPem] = useState('');
  const [errors, setErrors] = useState<Record<string, string>>({});
  const [busy, setBusy] = useState<'csr' | 'import' | undefined>();

  useEffect(() => {
    call('identity', {}).then(setIdentity, (error) => setErrors({ form: errorMessage(error) }));
  }, []);

  const csr = async () => {
    setBusy('csr');
    try {
      const made = await call('createCsr', {});
      downloadText(made.fileName, made.pem);
      showToast(`CSR for ${made.subject} downloaded: have your CA sign it, then import the certificate`);
    } catch (error) {
      setErrors({ form: errorMessage(error) });
    } finally {
      setBusy(undefined);
    }
  };

  const importCertificate = async (event: Event) => {
    event.preventDefault();
    setBusy('import');
    setErrors({});
    try {
      setIdentity(await call('importCertificate', { pem }));
      setPem('');
      showToast('Certificate imported');
    } catch (error) {
      setErrors({ pem: errorMessage(error) });
    } finally {
      setBusy(undefined);
    }
  };

  const certificate = identity?.certificate;
  return (
    <section class="card stack" aria-labelledby="identity-title">
      <h2 id="identity-title">Gateway certificate</h2>
      {identity && (
        <dl class="facts" id="identity-facts">
          <dt>State</dt>
          <dd>{identity.status}</dd>
          <dt>Subject</dt>
          <dd class="mono">{certificate?.subject ?? 'no certificate yet'}</dd>
          {certificate && (
            <>
              <dt>Issuer</dt>
              <dd class="mono">{certificate.issuer}</dd>
              <dt>Valid until</dt>
              <dd>
                {new Date(certificate.notAfter).toLocaleDateString()} ({certificate.daysLeft} days left)
              </dd>
            </>
          )}
        </dl>
      )}
      {errors.form && (
        <p class="notice bad" role="alert">
          {errors.form}
        </p>
      )}
      <div>
        <Button onClick={() => void csr()} busy={busy === 'csr'}>
          Download a CSR
        </Button>
      </div>
      <form class="stack" onSubmit={importCertificate} noValidate>
        <FieldFrame label="Signed certificate (PEM)" error={errors.pem} hint="Paste it, or choose the file.">
          {({ id, describedBy, invalid }) => (
            <textarea
              id={id}
              name="certificate"
              value={pem}
              aria-describedby={describedBy}
              aria-invalid={invalid || undefined}
              onInput={(event) => setPem(event.currentTarget.value)}
              placeholder="-----BEGIN CERTIFICATE-----"
            />
          )}
        </FieldFrame>
        <FieldFrame label="Signed certificate file">
          {({ id }) => <input id={id} type="file" accept=".pem,.crt,.cer" onChange={(event) => void readFileText(event.currentTarget).then((text) => text && setPem(text))} />}
        </FieldFrame>
        <div>
          <Button variant="primary" type="submit" busy={busy === 'import'} disabled={pem.trim() === ''}>
            Import certificate
          </Button>
        </div>
      </form>
    </section>
  );
}

export function CloudScreen() {
  return (
    <div class="stack">
      <h1>Cloud</h1>
      <div class="grid wide">
        <BrokerForm />
        <IdentityCard />
      </div>
    </div>
  );
}
