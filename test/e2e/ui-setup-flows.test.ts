import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { BTHOME_UUID } from '../../main/sensors/ble/decoders/index.js';
import { VECTORS } from '../fixtures/ble/bthome-seal.js';
import { startMosquitto } from '../helpers/mosquitto.js';
import { createPki } from '../helpers/pki.js';
import { SocatPair } from '../helpers/socat.js';
import { GATEWAY_ID } from '../integration/identity/fixture.js';
import { CLI, OtaBox, SCRIPTS } from '../integration/ota/fixture.js';
import { closePort, openDeviceEnd, send, waitFor } from '../integration/serial/fixture.js';
import { ARCH, MODEL, bundleBytes, offsetOf } from '../unit/ota/bundle-factory.js';
import { BluezMock, PrivateBus } from '../helpers/dbus.js';
import { captureScreen, completeFirstRun, goTo, launchBrowser, openUi, startGateway, tempDir } from './ui-harness.js';

test('setup flows in the UI: serial preview, BLE bind key, cloud test and CA upload, CSR and certificate, OTA refuse / install / roll back', async (t) => {
  const pki = await createPki();
  t.after(() => pki.cleanup());
  const otherCa = await createPki();
  t.after(() => otherCa.cleanup());
  const broker = await startMosquitto({ pki });
  t.after(() => broker.cleanup());
  const pair = new SocatPair();
  await pair.start();
  t.after(() => pair.dispose());
  const device = await openDeviceEnd(pair.b);
  t.after(() => closePort(device));
  const box = await OtaBox.create();
  t.after(() => box.dispose());
  const dbusDir = tempDir(t);
  const bus = await PrivateBus.start(dbusDir);
  t.after(() => bus.stop());
  process.env.DBUS_SYSTEM_BUS_ADDRESS = bus.address;
  const mock = new BluezMock(bus);
  await mock.start();
  t.after(() => mock.stop());
  const adapter = await mock.addAdapter('hci0');
  const config = [
    `gateway: { id: ${GATEWAY_ID}, dataDir: $DIR/data }`,
    `identity: { caFile: ${pki.ca.certPath} }`,
    'sensors:',
    '  ble: {}',
    `ota: { model: ${MODEL}, arch: ${ARCH}, rootDir: ${box.root}, trustedKeysFile: ${box.keysFile}, markGoodTimeoutMs: 60000, reserveBytes: 0 }`,
    'ui: { port: 0 }',
    '',
  ].join('\n');
  const gateway = await startGateway(t, config, { DBUS_SYSTEM_BUS_ADDRESS: bus.address, FG_CLI: CLI });
  await waitFor('BLE discovery', () => mock.discovering(adapter));
  const files = tempDir(t);

  const browser = await launchBrowser(t);
  const { page, problems } = await openUi(browser, gateway.url, { acceptDownloads: true });
  await completeFirstRun(page, gateway.setupCode as string);

  await t.test('serial: the live preview shows parsed lines and rejects with their reasons', async () => {
    await goTo(page, 'Sensors');
    await page.getByRole('link', { name: 'Add serial' }).click();
    await page.getByLabel('Or type a port path').fill(pair.a);
    await page.getByLabel('Format').selectOption('kv');
    await page.getByLabel('Sensor id').fill('shed');
    await page.getByRole('button', { name: 'Start preview' }).click();
    await page.getByRole('button', { name: 'Stop preview' }).waitFor();
    await send(device, 't=4.5\nt=warm\n');
    const lines = page.locator('#preview-lines li');
    await page.locator('#preview-lines li.preview-reject').waitFor();
    await page.locator('#preview-lines li.preview-ok').waitFor();
    assert.match((await page.locator('#preview-lines li.preview-ok').textContent()) ?? '', /t=4\.5.*shed t 4\.5/s);
    assert.match((await page.locator('#preview-lines li.preview-reject').textContent()) ?? '', /t=warm.*rejected: no-values \(no numeric fields\)/s);
    assert.equal(await lines.count(), 2);
    assert.match((await page.locator('#preview-title + p').textContent()) ?? '', /1 parsed, 1 rejected/);
    await captureScreen(page, 'add-serial-preview');
    await page.getByRole('button', { name: 'Stop preview' }).click();
    await page.getByRole('button', { name: 'Start preview' }).waitFor();
  });

  await t.test('BLE: pairing with a countdown, a wrong bind key is refused, the right one accepted, readings appear', async () => {
    await goTo(page, 'Sensors');
    await page.getByRole('link', { name: 'Add BLE' }).click();
    await page.getByRole('button', { name: 'Start pairing' }).click();
    await page.locator('#pairing-countdown', { hasText: /[0-9]:[0-5][0-9] left/ }).waitFor();
    const secret = await mock.addDevice('hci0', VECTORS.mac, 'freezer');
    await mock.advertise(secret, -50, { serviceData: { [BTHOME_UUID]: VECTORS.encrypted1.slice(4) } });
    const card = page.locator(`li[data-mac="${VECTORS.mac}"]`);
    await card.waitFor({ timeout: 20_000 });
    assert.match((await card.textContent()) ?? '', /-50 dBm.*encrypted/s);
    await captureScreen(page, 'add-ble-nearby');
    await card.getByRole('button', { name: /^Add this device/ }).click();
    await page.getByLabel('Sensor id').fill('freezer');
    await page.getByLabel('Bind key').fill('not-hex');
    await page.getByLabel('Bind key').blur();
    await page.getByText('A bind key has only the characters 0-9 and a-f.').waitFor();
    await page.getByLabel('Bind key').fill(VECTORS.wrongKey);
    await page.getByRole('button', { name: 'Save sensor' }).click();
    const keyError = page.locator('.field', { has: page.getByLabel('Bind key') }).locator('.field-error');
    await keyError.filter({ hasText: /wrong bind key/ }).waitFor();
    await captureScreen(page, 'add-ble-wrong-key');
    await page.getByLabel('Bind key').fill(VECTORS.bindKey.toUpperCase().match(/.{2}/g)?.join(':') ?? '');
    await page.getByRole('button', { name: 'Save sensor' }).click();
    await page.getByRole('heading', { name: 'Sensors' }).waitFor();
    await mock.advertise(secret, -48, { serviceData: { [BTHOME_UUID]: VECTORS.encrypted2.slice(4) } });
    const row = page.locator('tr[data-sensor="freezer"]');
    await row.locator('[data-tone="ok"]').waitFor({ timeout: 20_000 });
    assert.match((await row.textContent()) ?? '', /ble.*online.*(just now|\d+ s ago)/s);
    await row.locator('[data-quantity="temperature"]', { hasText: /temperature [\d.]+ °C/ }).waitFor({ timeout: 20_000 });
    await captureScreen(page, 'sensors-ble');
  });

  await t.test('cloud: a wrong CA shows unknown-ca and the fix; the uploaded right CA connects', async () => {
    const client = await pki.issueClientCert({ cn: GATEWAY_ID });
    await goTo(page, 'Cloud');
    await page.getByLabel('Broker URL').fill(broker.url);
    await page.getByLabel('CA file on the gateway').fill(otherCa.ca.certPath);
    await page.getByLabel('Client certificate file').fill(client.certPath);
    await page.getByLabel('Client key file').fill(client.keyPath);
    await page.getByRole('button', { name: 'Test connection' }).click();
    const result = page.locator('#cloud-test-result');
    await result.waitFor({ timeout: 30_000 });
    assert.equal(await result.getAttribute('data-kind'), 'unknown-ca');
    assert.match((await result.textContent()) ?? '', /unknown-ca.*Fix:.*CA/s);
    await captureScreen(page, 'cloud-unknown-ca');
    await page.getByLabel('Upload a CA certificate (PEM)').setInputFiles(pki.ca.certPath);
    await waitFor('the uploaded CA in the CA field', async () => (await page.getByLabel('CA file on the gateway').inputValue()) !== otherCa.ca.certPath);
    await page.getByRole('button', { name: 'Test connection' }).click();
    await page.locator('#cloud-test-result[data-ok="true"]').waitFor({ timeout: 30_000 });
    await captureScreen(page, 'cloud-connected');
  });

  await t.test('identity: a CSR made on the box downloads, and the signed certificate imports', async () => {
    const downloaded = page.waitForEvent('download');
    await page.getByRole('button', { name: 'Download a CSR' }).click();
    const download = await downloaded;
    assert.equal(download.suggestedFilename(), `${GATEWAY_ID}.csr`);
    const csrFile = join(files, 'gateway.csr');
    await download.saveAs(csrFile);
    const csr = readFileSync(csrFile, 'utf8');
    assert.match(csr, /BEGIN CERTIFICATE REQUEST/);
    const certificate = join(files, 'gateway.pem');
    writeFileSync(certificate, await pki.signCsr(csr, { days: 30 }));
    await page.getByLabel('Signed certificate file').setInputFiles(certificate);
    await waitFor('the certificate in the text box', async () => (await page.getByLabel('Signed certificate (PEM)').inputValue()).includes('BEGIN CERTIFICATE'));
    await page.getByRole('button', { name: 'Import certificate' }).click();
    await page.locator('#identity-facts', { hasText: `CN=${GATEWAY_ID}` }).waitFor();
    assert.match((await page.locator('#identity-facts').textContent()) ?? '', /Valid until.*\(\d+ days left\)/s);
    await captureScreen(page, 'cloud-certificate-imported');
  });

  await t.test('OTA: a tampered bundle is refused with its reason; a valid one goes through the progress bar to installed; then roll back', async () => {
    const tamperedRelease = box.release(1, SCRIPTS.good);
    const tampered = await bundleBytes(tamperedRelease);
    const at = offsetOf(tampered, tamperedRelease.files[1]?.data as Buffer) + 10;
    tampered[at] = (tampered[at] as number) ^ 0x80;
    writeFileSync(join(files, 'tampered.fgb'), tampered);
    writeFileSync(join(files, 'good-1.fgb'), await bundleBytes(box.release(1, SCRIPTS.good)));
    writeFileSync(join(files, 'good-2.fgb'), await bundleBytes(box.release(2, SCRIPTS.good)));

    await goTo(page, 'Updates');
    await page.locator('#ota-current').waitFor();
    await page.getByLabel('Update bundle').setInputFiles(join(files, 'tampered.fgb'));
    const verdict = page.locator('#verify-result');
    await verdict.waitFor({ timeout: 30_000 });
    assert.equal(await verdict.getAttribute('data-reason'), 'file-hash-mismatch');
    assert.match((await verdict.textContent()) ?? '', /Refused: file-hash-mismatch/);
    assert.equal(await page.locator('progress[data-progress="upload"]').getAttribute('value'), String(tampered.length));
    await captureScreen(page, 'updates-refused');

    // Two installs, so there is a previous version to roll back to.
    for (const [index, bundle] of ['good-1.fgb', 'good-2.fgb'].entries()) {
      const before = (await page.locator('#ota-current').textContent()) ?? '';
      await page.getByLabel('Update bundle').setInputFiles(join(files, bundle));
      await page.locator('#verify-result[data-ok="true"]').waitFor({ timeout: 30_000 });
      await page.getByRole('button', { name: /^Install / }).click();
      await page.locator('#install-progress').waitFor();
      await page.locator('#install-progress[data-phase="done"]').waitFor({ timeout: 90_000 });
      await waitFor('the new version running', async () => (await page.locator('#ota-current').textContent()) !== before);
      if (index === 1) assert.equal(await page.locator('#ota-previous').textContent(), before);
    }
    await captureScreen(page, 'updates-installed');
    const installed = (await page.locator('#ota-current').textContent()) ?? '';
    const previous = (await page.locator('#ota-previous').textContent()) ?? '';

    await page.getByRole('button', { name: /^Roll back/ }).click();
    const confirm = page.getByRole('dialog', { name: 'Roll back?' });
    await confirm.waitFor();
    await captureScreen(page, 'updates-rollback-confirm');
    await confirm.getByRole('button', { name: 'Roll back' }).click();
    await page.locator('#ota-current', { hasText: previous }).waitFor({ timeout: 60_000 });
    assert.notEqual(previous, installed);
    await captureScreen(page, 'updates-rolled-back');
  });

  assert.deepEqual(problems, []);
});
