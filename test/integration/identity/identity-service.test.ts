// The identity service as the control API drives it: a CSR for download, signed by a real test CA
// (openssl), imported with the store's checks; the same report as `identity show`; rotation on demand.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { Registry } from 'prom-client';
import { IdentityCredentials } from '../../../main/identity/credentials.js';
import { identityStoreFromConfig } from '../../../main/identity/from-config.js';
import { IdentityService } from '../../../main/identity/identity-service.js';
import { CertificateRotation, ROTATION_TOPICS, type RotationChannel } from '../../../main/identity/rotation.js';
import { silentLogger } from '../../../main/log/logger.js';
import { ApiError, identityViewSchema } from '../../../main/shared/api.js';
import { systemClock } from '../../../main/shared/clock.js';
import { createPki, type Pki } from '../../helpers/pki.js';
import { runCli } from '../../helpers/cli.js';
import { GATEWAY_ID, workspace, type Workspace } from './fixture.js';

describe('IdentityService', () => {
  let pki: Pki;
  let otherCa: Pki;
  let ws: Workspace;
  let rotation: CertificateRotation | undefined;
  const sent: Array<{ topic: string; payload: string }> = [];

  before(async () => {
    pki = await createPki();
    otherCa = await createPki();
    ws = workspace({ caFile: pki.ca.certPath });
  });

  after(async () => {
    await rotation?.stop();
    ws?.cleanup();
    await pki?.cleanup();
    await otherCa?.cleanup();
  });

  const service = () => new IdentityService({ config: () => ws.config, rotation: () => rotation, log: silentLogger, clock: systemClock });

  it('says there is no certificate yet, then gives a CSR to download whose signed certificate it imports', async () => {
    const before = service().identity();
    assert.equal(before.certificate, null);
    assert.match(before.status, /no device certificate/);
    assert.equal(before.managed, 'on-box');

    const csr = await service().createCsr();
    assert.match(csr.pem, /^-----BEGIN CERTIFICATE REQUEST-----/);
    assert.equal(csr.fileName, `${GATEWAY_ID}.csr`);
    assert.equal(csr.subject, `CN=${GATEWAY_ID}`);

    const foreign = await otherCa.signCsr(csr.pem, { days: 30 });
    assert.throws(() => service().importCertificate({ pem: foreign }), (error: unknown) => {
      assert.ok(error instanceof ApiError, String(error));
      assert.equal(error.kind, 'bad-request');
      assert.equal(error.details.field, 'pem');
      assert.match(error.details.hint ?? '', /chain to the configured CA/);
      return true;
    });
    assert.throws(() => service().importCertificate({ pem: 'not a certificate' }), (error: unknown) => error instanceof ApiError && error.kind === 'bad-request');
    assert.equal(service().identity().certificate, null, 'refused certificates are not installed');

    const signed = await pki.signCsr(csr.pem, { days: 30 });
    const view = service().importCertificate({ pem: signed });
    identityViewSchema.parse(view);
    assert.equal(view.status, 'ok');
    assert.equal(view.certificate?.subject, `CN=${GATEWAY_ID}`);
    assert.equal(view.certificate?.issuer, `CN=${pki.ca.name}`);
    assert.equal(view.certificate?.validity, 'valid');
    assert.ok((view.certificate?.daysLeft ?? 0) >= 29);
  });

  it('reports what `fieldgate identity show --json` reports', async () => {
    const view = service().identity();
    const cli = await runCli(['identity', 'show', '--config', ws.configFile, '--json']);
    assert.equal(cli.code, 0, cli.stderr);
    const shown = JSON.parse(cli.stdout) as Record<string, unknown>;
    assert.deepEqual(
      { serial: shown.serial, notAfter: shown.notAfter, fingerprint256: shown.fingerprint256, status: shown.status, rotationDueAt: shown.rotationDueAt, certFile: shown.certFile },
      { serial: view.certificate?.serial, notAfter: view.certificate?.notAfter, fingerprint256: view.certificate?.fingerprint256, status: view.status, rotationDueAt: view.rotationDueAt, certFile: view.certFile },
    );
  });

  it('kicks a certificate rotation, which sends a CSR for a new key', async () => {
    await assert.rejects(service().rotateNow(), (error: unknown) => error instanceof ApiError && error.kind === 'unavailable');
    const store = identityStoreFromConfig(ws.config);
    const channel: RotationChannel = {
      publishControl: async (topic, payload) => {
        sent.push({ topic, payload });
      },
      onControl: () => () => {},
      reconnect: async () => {},
    };
    rotation = new CertificateRotation({
      store,
      credentials: new IdentityCredentials({ store, clock: systemClock }),
      channel,
      gatewayId: GATEWAY_ID,
      config: ws.config.identity.rotation,
      checkIntervalMs: 3_600_000,
      metrics: new Registry(),
      log: silentLogger,
      clock: systemClock,
    });
    await rotation.start(new AbortController().signal);
    const { requestId } = await service().rotateNow();
    assert.equal(sent.length, 1);
    assert.equal(sent[0]?.topic, ROTATION_TOPICS.csr);
    const message = JSON.parse(sent[0]?.payload ?? '{}') as { requestId: string; csr: string };
    assert.equal(message.requestId, requestId);
    assert.match(message.csr, /BEGIN CERTIFICATE REQUEST/);
    assert.equal(service().identity().rotationPending?.requestId, requestId);
    await assert.rejects(service().rotateNow(), (error: unknown) => error instanceof ApiError && error.kind === 'conflict');
  });
});
