import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { chmodSync, existsSync, linkSync, mkdirSync, renameSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { identityStoreFromConfig } from '../../../main/identity/from-config.js';
import { runCli } from '../../helpers/cli.js';
import { createPki, daysFromNow, type Pki } from '../../helpers/pki.js';
import { GATEWAY_ID, installIdentity, opensslCsr, opensslText, publicKeyOf, read, serialOf, workspace } from './fixture.js';

let pki: Pki;
let otherPki: Pki;

before(async () => {
  pki = await createPki();
  otherPki = await createPki();
});

after(async () => {
  await pki.cleanup();
  await otherPki.cleanup();
});

function mode(path: string): number {
  return statSync(path).mode & 0o777;
}

test('identity csr makes a private key on the box (0600 in 0700) and a CSR with CN = gateway id and the SANs', async () => {
  const ws = workspace({ caFile: pki.ca.certPath, identity: { subject: { organization: 'Acme' }, subjectAltNames: { dns: ['gw-1.local'], uri: ['urn:fieldgate:gw-1'] } } });
  try {
    const first = await runCli(['identity', 'csr', '--config', ws.configFile]);
    assert.equal(first.code, 0, first.stderr);
    assert.match(first.stderr, /generated a new ecdsa-p256 key/);
    assert.equal(mode(ws.identityDir), 0o700);
    assert.equal(mode(join(ws.identityDir, 'key.pem')), 0o600);
    assert.equal(first.stdout, read(join(ws.identityDir, 'csr.pem')));
    const text = opensslText(['req', '-noout', '-text', '-verify'], first.stdout);
    assert.match(text, /Subject: O = Acme, CN = gw-1/);
    assert.match(text, /DNS:gw-1\.local, URI:urn:fieldgate:gw-1/);
    assert.match(text, /ASN1 OID: prime256v1/);
    assert.equal(publicKeyOf(read(join(ws.identityDir, 'key.pem'))), opensslText(['req', '-noout', '-pubkey'], first.stdout));

    const again = await runCli(['identity', 'csr', '--config', ws.configFile, '--out', join(ws.root, 'again.csr')]);
    assert.equal(again.code, 0, again.stderr);
    assert.doesNotMatch(again.stderr, /generated/);
    assert.equal(opensslText(['req', '-noout', '-pubkey'], again.stdout), opensslText(['req', '-noout', '-pubkey'], first.stdout));
    assert.equal(read(join(ws.root, 'again.csr')), again.stdout);
  } finally {
    ws.cleanup();
  }
});

test('csr → signed by the CA → import → show prints subject, issuer, serial, validity and days left', async () => {
  const ws = workspace({ caFile: pki.ca.certPath });
  try {
    const csr = await runCli(['identity', 'csr', '--config', ws.configFile]);
    const certFile = join(ws.root, 'signed.pem');
    writeFileSync(certFile, await pki.signCsr(csr.stdout, { days: 90 }));
    const imported = await runCli(['identity', 'import', '--config', ws.configFile, certFile]);
    assert.equal(imported.code, 0, imported.stderr);
    assert.match(imported.stdout, /installed .*cert\.pem: CN=gw-1/);
    assert.equal(existsSync(join(ws.identityDir, 'csr.pem')), false, 'the provisioning CSR is removed once its certificate is in');

    const json = await runCli(['identity', 'show', '--config', ws.configFile, '--json']);
    assert.equal(json.code, 0, json.stderr);
    const shown = JSON.parse(json.stdout) as Record<string, unknown>;
    assert.equal(shown.subject, `CN=${GATEWAY_ID}`);
    assert.equal(shown.issuer, `CN=${pki.ca.name}`);
    assert.equal(shown.serial, serialOf(certFile));
    assert.equal(shown.validity, 'valid');
    assert.ok(shown.daysLeft === 89 || shown.daysLeft === 90, `daysLeft ${String(shown.daysLeft)}`);
    assert.equal(shown.status, 'ok');

    const text = await runCli(['identity', 'show', '--config', ws.configFile]);
    assert.match(text.stdout, new RegExp(`serial: +${serialOf(certFile)}`));
    assert.match(text.stdout, /days left: +(89|90)\n/);
    assert.match(text.stdout, /not after: +\d{4}-\d\d-\d\dT/);
  } finally {
    ws.cleanup();
  }
});

test('import refuses a certificate for another key, from another CA, for another CN, expired or not yet valid', async () => {
  const ws = workspace({ caFile: pki.ca.certPath });
  try {
    const csr = (await runCli(['identity', 'csr', '--config', ws.configFile])).stdout;
    const keyFile = join(ws.identityDir, 'key.pem');
    const cases: [string, string, RegExp][] = [
      ['another key', (await pki.issueClientCert({ cn: GATEWAY_ID })).certPem, /does not match the device key/],
      ['another CA', await otherPki.signCsr(csr, { days: 30 }), /does not chain to the configured CA/],
      ['another CN', await pki.signCsr(opensslCsr(keyFile, '/CN=gw-2'), { days: 30 }), /issued to CN=gw-2 but this gateway is "gw-1"/],
      ['expired', await pki.signCsr(csr, { notBefore: daysFromNow(-40), notAfter: daysFromNow(-3) }), /expired on .* \(3 days ago/],
      ['not yet valid', await pki.signCsr(csr, { notBefore: daysFromNow(400), days: 30 }), /system clock looks wrong \(now=\d{4}-.*Z, notBefore=\d{4}-.*Z\)/],
    ];
    for (const [name, pem, message] of cases) {
      const file = join(ws.root, `${name.replace(/ /g, '-')}.pem`);
      writeFileSync(file, pem);
      const result = await runCli(['identity', 'import', '--config', ws.configFile, file]);
      assert.equal(result.code, 1, name);
      assert.match(result.stderr, message, name);
      assert.equal(result.stderr.trim().split('\n').length, 1, `${name}: one line`);
      assert.equal(existsSync(join(ws.identityDir, 'cert.pem')), false, `${name}: nothing installed`);
    }
  } finally {
    ws.cleanup();
  }
});

test('a certificate issued by an intermediate CA imports with the chain appended, and not without it', async () => {
  const scratch = workspace({ caFile: '/nonexistent' });
  const openssl = (...args: string[]) => execFileSync('openssl', args, { cwd: scratch.root, stdio: 'pipe' });
  try {
    const ec = ['-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:P-256', '-nodes'];
    writeFileSync(join(scratch.root, 'ca.ext'), 'basicConstraints=critical,CA:TRUE\nkeyUsage=critical,keyCertSign\n');
    openssl('req', '-x509', ...ec, '-keyout', 'root.key', '-out', 'root.crt', '-days', '30', '-subj', '/CN=Root', '-addext', 'basicConstraints=critical,CA:TRUE');
    openssl('req', '-new', ...ec, '-keyout', 'int.key', '-out', 'int.csr', '-subj', '/CN=Issuing CA');
    openssl('x509', '-req', '-in', 'int.csr', '-CA', 'root.crt', '-CAkey', 'root.key', '-CAcreateserial', '-days', '30', '-extfile', 'ca.ext', '-out', 'int.crt');
    const ws = workspace({ caFile: join(scratch.root, 'root.crt') });
    try {
      const csr = await runCli(['identity', 'csr', '--config', ws.configFile, '--out', join(scratch.root, 'gw.csr')]);
      assert.equal(csr.code, 0, csr.stderr);
      openssl('x509', '-req', '-in', 'gw.csr', '-CA', 'int.crt', '-CAkey', 'int.key', '-CAcreateserial', '-days', '20', '-out', 'leaf.crt');
      const leafOnly = await runCli(['identity', 'import', '--config', ws.configFile, join(scratch.root, 'leaf.crt')]);
      assert.equal(leafOnly.code, 1);
      assert.match(leafOnly.stderr, /issuer "CN=Issuing CA"\) does not chain to the configured CA .*an intermediate is missing/);
      writeFileSync(join(scratch.root, 'chain.pem'), read(join(scratch.root, 'leaf.crt')) + read(join(scratch.root, 'int.crt')));
      const chained = await runCli(['identity', 'import', '--config', ws.configFile, join(scratch.root, 'chain.pem')]);
      assert.equal(chained.code, 0, chained.stderr);
      const show = await runCli(['identity', 'show', '--config', ws.configFile, '--json']);
      assert.equal((JSON.parse(show.stdout) as { issuer: string; status: string }).issuer, 'CN=Issuing CA');
      assert.equal((JSON.parse(show.stdout) as { status: string }).status, 'ok');
    } finally {
      ws.cleanup();
    }
  } finally {
    scratch.cleanup();
  }
});

test('show describes an externally managed certificate (cloud.certFile elsewhere) and flags it when expired', async () => {
  const external = await pki.issueClientCert({ cn: GATEWAY_ID, notBefore: daysFromNow(-30), notAfter: daysFromNow(-1) });
  const ws = workspace({
    caFile: pki.ca.certPath,
    cloud: { url: 'mqtts://broker.example.com:8883', caFile: pki.ca.certPath, certFile: external.certPath, keyFile: external.keyPath },
  });
  try {
    const show = await runCli(['identity', 'show', '--config', ws.configFile, '--json']);
    assert.equal(show.code, 1);
    const report = JSON.parse(show.stdout) as { managed: string; status: string; certFile: string; validity: string };
    assert.equal(report.managed, 'external');
    assert.equal(report.certFile, external.certPath);
    assert.equal(report.validity, 'expired');
    assert.match(report.status, /device certificate expired on .* \(1 day ago/);
  } finally {
    ws.cleanup();
  }
});

test('a group/world-readable key or identity folder is refused with the chmod that fixes it', async () => {
  const ws = workspace({ caFile: pki.ca.certPath });
  try {
    const client = await pki.issueClientCert({ cn: GATEWAY_ID });
    installIdentity(ws.identityDir, client.keyPem, client.certPem);
    const keyFile = join(ws.identityDir, 'key.pem');
    assert.equal((await runCli(['identity', 'show', '--config', ws.configFile])).code, 0);

    chmodSync(keyFile, 0o644);
    const loose = await runCli(['identity', 'show', '--config', ws.configFile, '--json']);
    assert.equal(loose.code, 1);
    const status = (JSON.parse(loose.stdout) as { status: string }).status;
    assert.match(status, /private key .*key\.pem is accessible to group or others \(mode 0644\); refusing to use it\. Fix: chmod 600 .*key\.pem$/);
    const store = identityStoreFromConfig(ws.config);
    assert.throws(() => store.load(Date.now()), /chmod 600/);

    chmodSync(keyFile, 0o600);
    chmodSync(ws.identityDir, 0o755);
    assert.throws(() => store.load(Date.now()), /identity folder .* \(mode 0755\).*Fix: chmod 700 /);
    const csr = await runCli(['identity', 'csr', '--config', ws.configFile]);
    assert.equal(csr.code, 1);
    assert.match(csr.stderr, /chmod 700/);
  } finally {
    ws.cleanup();
  }
});

test('identity wipe needs --yes, then destroys keys, bind keys and buffer and leaves first-run state', async () => {
  const ws = workspace(({ root }) => ({ caFile: pki.ca.certPath, sensors: { ble: { stateDir: join(root, 'ble-state') } } }));
  const bleDir = join(ws.root, 'ble-state');
  try {
    const csr = (await runCli(['identity', 'csr', '--config', ws.configFile])).stdout;
    const certFile = join(ws.root, 'signed.pem');
    writeFileSync(certFile, await pki.signCsr(csr, { days: 30 }));
    assert.equal((await runCli(['identity', 'import', '--config', ws.configFile, certFile])).code, 0);
    const oldPublicKey = publicKeyOf(read(join(ws.identityDir, 'key.pem')));
    mkdirSync(join(bleDir, 'keys'), { recursive: true, mode: 0o700 });
    writeFileSync(join(bleDir, 'allowlist.json'), '{"devices":[{"mac":"a4:c1:38:00:00:01","bindKey":"sealed"}]}', { mode: 0o600 });
    writeFileSync(join(bleDir, 'keys', 'allowlist.key'), Buffer.alloc(32, 7), { mode: 0o600 });
    for (const name of ['buffer.db', 'buffer.db-wal', 'buffer.db-shm']) writeFileSync(join(ws.dataDir, name), 'x');
    writeFileSync(join(ws.dataDir, 'unrelated.txt'), 'kept');

    const refused = await runCli(['identity', 'wipe', '--config', ws.configFile]);
    assert.equal(refused.code, 1);
    assert.match(refused.stderr, /add --yes to confirm/);
    assert.ok(existsSync(join(ws.identityDir, 'key.pem')), 'nothing destroyed without --yes');

    const wiped = await runCli(['identity', 'wipe', '--yes', '--config', ws.configFile]);
    assert.equal(wiped.code, 0, wiped.stderr);
    const report = JSON.parse(wiped.stdout) as { destroyed: string[]; removed: string[]; state: string };
    assert.equal(report.state, 'first-run');
    assert.ok(report.destroyed.includes(join(ws.identityDir, 'key.pem')));
    assert.ok(report.destroyed.includes(join(bleDir, 'allowlist.json')));
    assert.ok(report.destroyed.includes(join(bleDir, 'keys', 'allowlist.key')));
    assert.deepEqual(report.removed.sort(), ['buffer.db', 'buffer.db-shm', 'buffer.db-wal'].map((n) => join(ws.dataDir, n)));
    for (const gone of [ws.identityDir, bleDir, join(ws.dataDir, 'buffer.db')]) assert.equal(existsSync(gone), false, gone);
    assert.equal(read(join(ws.dataDir, 'unrelated.txt')), 'kept');

    const show = await runCli(['identity', 'show', '--config', ws.configFile]);
    assert.equal(show.code, 1);
    assert.match(show.stderr, /no device certificate in .*identity: run "fieldgate identity csr/);
    const fresh = await runCli(['identity', 'csr', '--config', ws.configFile]);
    assert.match(fresh.stderr, /generated a new ecdsa-p256 key/);
    assert.notEqual(publicKeyOf(read(join(ws.identityDir, 'key.pem'))), oldPublicKey);
  } finally {
    ws.cleanup();
  }
});

test('a promotion interrupted between moving the key and the certificate is finished at the next start', async () => {
  const ws = workspace({ caFile: pki.ca.certPath });
  try {
    const store = identityStoreFromConfig(ws.config);
    const { csrPem } = await store.writeProvisioningCsr();
    store.importCertificate(await pki.signCsr(csrPem, { days: 30 }), 'first', Date.now());
    const request = await store.beginRotation(Date.now());
    const next = store.acceptIssued(await pki.signCsr(request.csrPem, { days: 60 }), Date.now());
    // The crash: the old key was linked aside and the new key moved in, but not its certificate.
    linkSync(store.paths.key, store.paths.retiredKey);
    renameSync(store.paths.nextKey, store.paths.key);
    assert.throws(() => store.load(Date.now()), /does not match the device key/);

    store.recover();
    const loaded = store.load(Date.now());
    assert.equal(loaded.info.serial, next.info.serial);
    assert.equal(existsSync(store.paths.retiredKey), false);
    assert.equal(existsSync(store.paths.nextDir), false);
  } finally {
    ws.cleanup();
  }
});
