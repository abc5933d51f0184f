import { useEffect, useState } from 'preact/hooks';
import type { ApiEvent, MethodResult } from '../../main/shared/api.js';
import { Button } from '../components/button.js';
import { ConfirmDialog } from '../components/dialog.js';
import { FieldFrame } from '../components/field.js';
import { showToast } from '../components/toasts.js';
import { bytes, errorMessage } from '../format.js';
import { uploadBundle } from '../client/upload.js';
import { listen } from '../state/live.js';
import { call } from '../state/session.js';

type OtaStatus = MethodResult<'otaStatus'>;
type Verified = MethodResult<'verifyBundle'>;
type Progress = Extract<ApiEvent, { type: 'ota-progress' }>;

const PHASE_WORDS: Record<Progress['phase'], string> = {
  verifying: 'Checking signatures and hashes',
  staging: 'Writing the new version',
  switching: 'Switching to the new version',
  done: 'Installed',
  failed: 'Install failed',
};

function Bar({ label, done, total, id }: { label: string; done: number; total: number; id: string }) {
  return (
    <FieldFrame label={label}>
      {({ id: controlId }) => (
        <progress id={controlId} data-progress={id} max={Math.max(total, 1)} value={done}>
          {Math.round((done / Math.max(total, 1)) * 100)}%
        </progress>
      )}
    </FieldFrame>
  );
}

export function UpdatesScreen() {
  const [ota, setOta] = useState<OtaStatus | undefined>();
  const [upload, setUploadProgress] = useState<{ sent: number; total: number } | undefined>();
  const [bundle, setBundle] = useState<MethodResult<'uploadBundle'> | undefined>();
  const [verified, setVerified] = useState<Verified | undefined>();
  const [progress, setProgress] = useState<Progress | undefined>();
  const [error, setError] = useState<string | undefined>();
  const [confirmRollback, setConfirmRollback] = useState(false);
  const [busy, setBusy] = useState(false);

  const refresh = () => call('otaStatus', {}).then(setOta, (failure) => setError(errorMessage(failure)));
  useEffect(() => void refresh(), []);
  useEffect(
    () =>
      listen((event) => {
        if (event.type !== 'ota-progress' || (bundle && event.bundleId !== bundle.bundleId)) return;
        setProgress(event);
        if (event.phase === 'done' || event.phase === 'failed') void refresh();
      }),
    [bundle],
  );

  const choose = async (input: HTMLInputElement) => {
    const file = input.files?.[0];
    if (!file) return;
    setError(undefined);
    setBundle(undefined);
    setVerified(undefined);
    setProgress(undefined);
    setUploadProgress({ sent: 0, total: file.size });
    setBusy(true);
    try {
      const stored = await uploadBundle(file, (sent, total) => setUploadProgress({ sent, total }));
      setBundle(stored);
      setVerified(await call('verifyBundle', { bundleId: stored.bundleId }));
    } catch (failure) {
      setError(errorMessage(failure));
    } finally {
      setBusy(false);
      input.value = '';
    }
  };

  const install = async () => {
    if (!bundle) return;
    setBusy(true);
    setError(undefined);
    try {
      await call('installBundle', { bundleId: bundle.bundleId });
    } catch (failure) {
      setError(errorMessage(failure));
    } finally {
      setBusy(false);
    }
  };

  const rollback = async () => {
    setConfirmRollback(false);
    setBusy(true);
    try {
      const result = await call('rollback', {});
      showToast(`Rolled back to ${result.version}`);
      setBundle(undefined);
      setVerified(undefined);
      setProgress(undefined);
      await refresh();
    } catch (failure) {
      setError(errorMessage(failure));
    } finally {
      setBusy(false);
    }
  };

  return (
    <div class="stack">
      <h1>Updates</h1>
      <section class="card" aria-labelledby="versions-title">
        <h2 id="versions-title">Versions</h2>
        {ota && (
          <dl class="facts" id="ota-versions">
            <dt>Running</dt>
            <dd id="ota-current">{ota.current.version}</dd>
            <dt>Previous</dt>
            <dd id="ota-previous">{ota.previous?.version ?? 'none'}</dd>
          </dl>
        )}
        {ota?.canRollback && (
          <p>
            <Button variant="danger" onClick={() => setConfirmRollback(true)} busy={busy}>
              Roll back to {ota.previous?.version ?? 'the previous version'}
            </Button>
          </p>
        )}
      </section>
      <section class="card stack" aria-labelledby="upload-title">
        <h2 id="upload-title">Install an update</h2>
        <FieldFrame label="Update bundle" hint="A signed .fgb bundle; it is checked before anything is installed.">
          {({ id, describedBy }) => <input id={id} name="bundle" type="file" aria-describedby={describedBy} disabled={busy} onChange={(event) => void choose(event.currentTarget)} />}
        </FieldFrame>
        {upload && <Bar id="upload" label={`Upload: ${bytes(upload.sent)} of ${bytes(upload.total)}`} done={upload.sent} total={upload.total} />}
        {verified &&
          (verified.ok ? (
            <div class="notice good" role="status" id="verify-result" data-ok="true">
              <p>
                <strong>Verified {verified.version}:</strong> {verified.message}
              </p>
              {!progress && (
                <Button variant="primary" onClick={() => void install()} busy={busy}>
                  Install {verified.version}
                </Button>
              )}
            </div>
          ) : (
            <div class="notice bad" role="alert" id="verify-result" data-ok="false" data-reason={verified.reason}>
              <p>
                <strong>Refused:</strong> <code>{verified.reason}</code>
              </p>
              <p>{verified.message}</p>
            </div>
          ))}
        {progress && (
          <div class="stack" id="install-progress" data-phase={progress.phase}>
            <Bar id="install" label={`${PHASE_WORDS[progress.phase]}${progress.reason ? `: ${progress.reason}` : ''} (${bytes(progress.bytesDone)} of ${bytes(progress.bytesTotal)})`} done={progress.bytesDone} total={progress.bytesTotal} />
          </div>
        )}
        {error && (
          <p class="notice bad" role="alert">
            {error}
          </p>
        )}
      </section>
      <ConfirmDialog
        open={confirmRollback}
        title="Roll back?"
        message={`The gateway goes back to ${ota?.previous?.version ?? 'the previous version'} and restarts. Buffered readings are kept.`}
        confirmLabel="Roll back"
        onConfirm={() => void rollback()}
        onCancel={() => setConfirmRollback(false)}
      />
    </div>
  );
}
