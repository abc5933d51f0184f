import { useEffect, useState } from 'preact/hooks';
import type { MethodResult } from '../../main/shared/api.js';
import { errorMessage } from '../format.js';
import { call } from '../state/session.js';

export function AboutScreen() {
  const [about, setAbout] = useState<MethodResult<'about'> | undefined>();
  const [error, setError] = useState<string | undefined>();
  useEffect(() => {
    call('about', {}).then(setAbout, (failure) => setError(errorMessage(failure)));
  }, []);
  return (
    <div class="stack">
      <h1>About</h1>
      {error && <p class="notice bad">{error}</p>}
      {about && (
        <section class="card">
          <dl class="facts" id="about-facts">
            <dt>Version</dt>
            <dd id="about-version">{about.version}</dd>
            <dt>Gateway id</dt>
            <dd id="about-gateway">{about.gatewayId}</dd>
            <dt>Device key</dt>
            <dd id="about-key-store">
              {about.keyStore.kind === 'pkcs11'
                ? `In a hardware token (PKCS#11, ${about.keyStore.token ?? 'token'}): it cannot be copied off the box`
                : 'A file on this box (identity.keyStore: file)'}
            </dd>
            <dt>HTTPS certificate</dt>
            <dd id="about-fingerprint" class="mono">
              {about.httpsFingerprint ? `SHA-256 ${about.httpsFingerprint}` : 'none: plain HTTP on loopback only'}
            </dd>
          </dl>
          {about.httpsFingerprint && <p class="muted">Compare this fingerprint with the one your browser shows before you trust the connection.</p>}
        </section>
      )}
    </div>
  );
}
