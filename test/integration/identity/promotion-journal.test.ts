// Promotion of a rotated identity is journalled: an I/O error or a crash between the renames is
// finished by recover() from the journal, with real files and a real test CA.
import assert from 'node:assert/strict';
import { existsSync, linkSync, writeFileSync } from 'node:fs';
import { after, before, test } from 'node:test';
import { identityStoreFromConfig } from '../../../main/identity/from-config.js';
import { createPki, type Pki } from '../../helpers/pki.js';
import { workspace } from './fixture.js';

let pki: Pki;
before(async () => {
  pki = await createPki();
});
after(async () => {
  await pki?.cleanup();
});

test('a promotion that fails with an I/O error between the key and certificate renames is finished from its journal', async () => {
  const ws = workspace({ caFile: pki.ca.certPath });
  try {
    const store = identityStoreFromConfig(ws.config);
    const { csrPem } = await store.writeProvisioningCsr();
    store.importCertificate(await pki.signCsr(csrPem, { days: 30 }), 'first', Date.now());
    const request = await store.beginRotation(Date.now());
    const next = store.acceptIssued(await pki.signCsr(request.csrPem, { days: 60 }), Date.now());
    process.env.FIELDGATE_IDENTITY_FAILPOINT = 'promote-between-renames';
    try {
      assert.throws(() => store.promote(), /EIO/);
    } finally {
      delete process.env.FIELDGATE_IDENTITY_FAILPOINT;
    }
    assert.ok(existsSync(store.paths.promotionJournal), 'the journal records the unfinished promotion');
    assert.throws(() => store.load(Date.now()), /does not match the device key/);
    // The next rotation attempt must not discard next/, which holds the only copy of the new certificate.
    const retry = await store.beginRotation(Date.now());
    assert.ok(retry.requestId);
    const restarted = identityStoreFromConfig(ws.config);
    restarted.recover();
    assert.equal(restarted.load(Date.now()).info.serial, next.info.serial);
    assert.equal(existsSync(store.paths.promotionJournal), false);
    assert.equal(existsSync(store.paths.retiredKey), false);
  } finally {
    ws.cleanup();
  }
});

test('a promotion interrupted before the key moved is finished from its journal at the next start', async () => {
  const ws = workspace({ caFile: pki.ca.certPath });
  try {
    const store = identityStoreFromConfig(ws.config);
    const { csrPem } = await store.writeProvisioningCsr();
    store.importCertificate(await pki.signCsr(csrPem, { days: 30 }), 'first', Date.now());
    const request = await store.beginRotation(Date.now());
    const next = store.acceptIssued(await pki.signCsr(request.csrPem, { days: 60 }), Date.now());
    // The crash: the journal and the retired-key link are written, nothing moved yet.
    writeFileSync(store.paths.promotionJournal, '{"promoting":true}\n', { mode: 0o600 });
    linkSync(store.paths.key, store.paths.retiredKey);
    identityStoreFromConfig(ws.config).recover();
    assert.equal(store.load(Date.now()).info.serial, next.info.serial);
    assert.deepEqual([existsSync(store.paths.promotionJournal), existsSync(store.paths.retiredKey), existsSync(store.paths.nextDir)], [false, false, false]);
  } finally {
    ws.cleanup();
  }
});
