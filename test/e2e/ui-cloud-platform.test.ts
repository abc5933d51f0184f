import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Page } from 'playwright-core';
import { parse } from 'yaml';
import { cloudProfileSchema } from '../../main/shared/config/cloud-profiles.js';
import { startMosquitto } from '../helpers/mosquitto.js';
import { createPki } from '../helpers/pki.js';
import { waitFor } from '../integration/serial/fixture.js';
import { captureScreen, completeFirstRun, goTo, launchBrowser, openUi, startGateway, tempDir } from './ui-harness.js';

/** A host that never resolves (RFC 2606), on AWS IoT Core's URL shape. */
const AWS_HOST = 'fieldgate-e2e-ats.iot.eu-west-1.amazonaws.invalid';

const fieldError = (page: Page, label: string) => page.locator('.field', { has: page.getByLabel(label, { exact: true }) }).locator('.field-error');

async function openCloudScreen(t: test.TestContext, gatewayId: string) {
  const gateway = await startGateway(t, `gateway: { id: ${gatewayId}, dataDir: $DIR/data }\nui: { port: 0 }\n`);
  const browser = await launchBrowser(t);
  const ui = await openUi(browser, gateway.url);
  await completeFirstRun(ui.page, gateway.setupCode as string);
  await goTo(ui.page, 'Cloud');
  return { gateway, ...ui };
}

test('cloud screen: the platform choice is the cloud.profile enum; AWS IoT Core sets the client id, shows its errors on the fields and saves', async (t) => {
  const pki = await createPki();
  t.after(() => pki.cleanup());
  const broker = await startMosquitto({ pki });
  t.after(() => broker.cleanup());

  await t.test('with a gateway id that is no AWS thing name', async (t) => {
    const { gateway, page, problems } = await openCloudScreen(t, 'gw.7');
    const client = await pki.issueClientCert({ cn: 'gw.7' });

    await t.test('the choices are the profiles of the config schema, in its order, each with a title and a description; generic is chosen', async () => {
      const radios = page.getByRole('group', { name: 'Platform' }).getByRole('radio');
      assert.deepEqual(await radios.evaluateAll((inputs) => inputs.map((input) => input.getAttribute('value'))), cloudProfileSchema.unwrap().options);
      for (const choice of await page.locator('.choice').all()) {
        assert.ok(((await choice.locator('strong').textContent()) ?? '').trim() !== '', `${await choice.getAttribute('data-profile')} has a title`);
        assert.ok(((await choice.locator('.muted').textContent()) ?? '').trim() !== '', `${await choice.getAttribute('data-profile')} has a description`);
      }
      assert.equal(await page.getByRole('radio', { checked: true }).getAttribute('value'), 'generic');
    });

    await t.test('generic: the client id is checked on its field, and Test connection reaches mutual-TLS Mosquitto', async () => {
      assert.equal(await page.getByLabel('Client id', { exact: true }).getAttribute('placeholder'), 'gw.7');
      assert.equal(await page.getByLabel('Client id', { exact: true }).getAttribute('readonly'), null);
      await page.getByLabel('Broker URL').fill(broker.url);
      await page.getByLabel('CA file on the gateway').fill(pki.ca.certPath);
      await page.getByLabel('Client certificate file').fill(client.certPath);
      await page.getByLabel('Client key file').fill(client.keyPath);
      await page.getByLabel('Topic prefix').fill('site-a');
      await page.getByLabel('Client id', { exact: true }).fill('line 2');
      await page.getByRole('button', { name: 'Test connection' }).click();
      await fieldError(page, 'Client id').filter({ hasText: /expected 1-64 characters of letters, digits/ }).waitFor();
      await page.getByLabel('Client id', { exact: true }).fill('');
      await page.getByRole('button', { name: 'Test connection' }).click();
      await page.locator('#cloud-test-result[data-ok="true"]').waitFor({ timeout: 30_000 });
      await captureScreen(page, 'cloud-platform-generic');
    });

    await t.test('AWS IoT Core: the client id is the gateway id, read-only; the URL placeholder is an AWS endpoint; what it changes is said', async () => {
      await page.getByRole('radio', { name: /AWS IoT Core/ }).check();
      const clientId = page.getByLabel('Client id', { exact: true });
      assert.equal(await clientId.inputValue(), 'gw.7');
      assert.notEqual(await clientId.getAttribute('readonly'), null);
      assert.match((await page.getByLabel('Broker URL').getAttribute('placeholder')) ?? '', /^mqtts:\/\/<endpoint>-ats\.iot\.<region>\.amazonaws\.com:8883$/);
      assert.match((await page.locator('#platform-changes').textContent()) ?? '', /thing name = gateway id; port 8883 or 443.*applied automatically/);
      await page.getByRole('heading', { name: 'Cloud', exact: true }).scrollIntoViewIfNeeded();
      await captureScreen(page, 'cloud-platform-aws');
      await page.emulateMedia({ colorScheme: 'dark' });
      await captureScreen(page, 'cloud-platform-aws-dark');
      await page.emulateMedia({ colorScheme: 'light' });
    });

    await t.test('AWS IoT Core: a port it does not serve is refused on the URL field, at Test connection and at Save', async () => {
      await page.getByLabel('Broker URL').fill(`mqtts://${AWS_HOST}:8884`);
      await page.getByRole('button', { name: 'Test connection' }).click();
      await fieldError(page, 'Broker URL').filter({ hasText: /AWS IoT Core .*port 8884 is not served/ }).waitFor();
      assert.equal(await page.locator('#cloud-test-result').count(), 0);
      await page.getByRole('button', { name: 'Save' }).click();
      await fieldError(page, 'Broker URL').filter({ hasText: /port 8884 is not served/ }).waitFor();
      await waitFor('the field in error to get the focus (and so come into view)', async () => (await page.evaluate("document.activeElement.getAttribute('name')")) === 'url');
      await captureScreen(page, 'cloud-platform-aws-port');
    });

    await t.test('AWS IoT Core: a gateway id that is no valid thing name is refused on the client id field, and nothing is saved', async () => {
      await page.getByLabel('Broker URL').fill(`mqtts://${AWS_HOST}:443`);
      await page.getByRole('button', { name: 'Save' }).click();
      await fieldError(page, 'Client id').filter({ hasText: /thing names have only letters, digits/ }).waitFor();
      assert.equal(await fieldError(page, 'Broker URL').count(), 0);
      assert.equal(await page.locator('form[aria-labelledby="broker-title"] > .notice.bad').count(), 0, 'the error is on the field, not under the form');
      await captureScreen(page, 'cloud-platform-aws-thing-name');
      assert.equal((parse(readFileSync(gateway.configFile, 'utf8')) as { cloud?: unknown }).cloud, undefined);
    });

    await t.test('Azure IoT Hub: the client id is the gateway id, read-only; a port IoT Hub does not serve is refused on the URL field', async () => {
      await page.getByRole('radio', { name: /Azure IoT Hub/ }).check();
      assert.equal(await page.getByLabel('Client id', { exact: true }).inputValue(), 'gw.7');
      assert.notEqual(await page.getByLabel('Client id', { exact: true }).getAttribute('readonly'), null);
      assert.equal(await page.getByLabel('Broker URL').getAttribute('placeholder'), 'mqtts://<hub>.azure-devices.net:8883');
      assert.match((await page.locator('#platform-changes').textContent()) ?? '', /device id = gateway id; MQTT 3\.1\.1/);
      await page.getByLabel('Broker URL').fill('mqtts://contoso.azure-devices.invalid:1883');
      await page.getByRole('button', { name: 'Test connection' }).click();
      await fieldError(page, 'Broker URL').filter({ hasText: /Azure IoT Hub .*port 1883 is not served/ }).waitFor();
      await captureScreen(page, 'cloud-platform-azure-port');
    });

    await t.test('ThingsBoard: an access token file field appears; with a token the certificate fields are refused on those fields; without them it saves', async () => {
      const tokenFile = join(tempDir(t), 'thingsboard.token');
      writeFileSync(tokenFile, 'A1_TEST_TOKEN\n', { mode: 0o600 });
      assert.equal(await page.getByLabel('Access token file').count(), 0);
      await page.getByRole('radio', { name: /ThingsBoard/ }).check();
      assert.equal(await page.getByLabel('Topic prefix').count(), 0, "ThingsBoard's topics are its own");
      assert.equal(await page.getByLabel('Client id', { exact: true }).getAttribute('readonly'), null);
      assert.equal(await page.getByLabel('Broker URL').getAttribute('placeholder'), 'mqtts://thingsboard.example.com:8883');
      await page.getByLabel('Broker URL').fill('mqtts://thingsboard.example.invalid:8883');
      await page.getByLabel('Access token file').fill(tokenFile);
      await page.getByRole('button', { name: 'Save' }).click();
      await fieldError(page, 'Client certificate file').filter({ hasText: /with cloud.accessTokenFile no client certificate is presented/ }).waitFor();
      await fieldError(page, 'Client key file').filter({ hasText: /with cloud.accessTokenFile no client certificate is presented/ }).waitFor();
      await captureScreen(page, 'cloud-platform-thingsboard-token');
      await page.getByLabel('Client certificate file').fill('');
      await page.getByLabel('Client key file').fill('');
      await page.getByRole('button', { name: 'Save' }).click();
      await page.getByText('Cloud settings saved').waitFor();
      const saved = (parse(readFileSync(gateway.configFile, 'utf8')) as { cloud: Record<string, unknown> }).cloud;
      assert.equal(saved.profile, 'thingsboard');
      assert.equal(saved.accessTokenFile, tokenFile);
      assert.equal(saved.certFile, undefined);
      assert.equal(saved.topicPrefix ?? 'fieldgate', 'fieldgate', 'the prefix typed for generic is not saved');
    });

    await t.test('back to generic: the AWS errors go, the client id is editable again', async () => {
      await page.getByRole('radio', { name: /Any MQTT broker/ }).check();
      assert.equal(await page.locator('.field-error').count(), 0);
      const clientId = page.getByLabel('Client id', { exact: true });
      assert.equal(await clientId.getAttribute('readonly'), null);
      assert.equal(await clientId.inputValue(), '');
      assert.equal(await page.getByLabel('Access token file').count(), 0, 'only ThingsBoard takes an access token');
      assert.equal(await page.getByLabel('Topic prefix').inputValue(), 'site-a');
      assert.equal(await page.getByLabel('Broker URL').getAttribute('placeholder'), 'mqtts://broker.example.com:8883');
    });
    assert.deepEqual(problems, []);
  });

  await t.test('with a valid thing name: a client id typed for generic is dropped, Test connection runs, AWS limits are refused on their fields, Save stores cloud.profile aws-iot-core', async (t) => {
    const { gateway, page, problems } = await openCloudScreen(t, 'plant3-line2_gw-7');
    const client = await pki.issueClientCert({ cn: 'plant3-line2_gw-7' });
    await page.getByLabel('Client id', { exact: true }).fill('custom-client');
    await page.getByRole('radio', { name: /AWS IoT Core/ }).check();
    assert.equal(await page.getByLabel('Client id', { exact: true }).inputValue(), 'plant3-line2_gw-7');
    await page.getByLabel('Broker URL').fill(`mqtts://${AWS_HOST}:8883`);
    await page.getByLabel('CA file on the gateway').fill(pki.ca.certPath);
    await page.getByLabel('Client certificate file').fill(client.certPath);
    await page.getByLabel('Client key file').fill(client.keyPath);

    await page.getByRole('button', { name: 'Test connection' }).click();
    const result = page.locator('#cloud-test-result');
    await result.waitFor({ timeout: 30_000 });
    assert.equal(await result.getAttribute('data-kind'), 'dns', 'the AWS settings passed the check and the test tried to connect');

    assert.equal(await page.getByLabel('In flight').getAttribute('placeholder'), '32', 'the schema default');
    await page.getByLabel('In flight').fill('200');
    await page.getByLabel('Bytes / message').fill('262144');
    await page.getByRole('button', { name: 'Save' }).click();
    await fieldError(page, 'In flight').filter({ hasText: /AWS IoT Core allows at most 100 unacknowledged publishes/ }).waitFor();
    await fieldError(page, 'Bytes / message').filter({ hasText: /AWS IoT Core accepts payloads up to 128 KB/ }).waitFor();
    await captureScreen(page, 'cloud-platform-aws-limits');
    await page.getByLabel('In flight').fill('100');
    await page.getByLabel('Bytes / message').fill('');
    await page.getByRole('button', { name: 'Save' }).click();
    await page.getByText('Cloud settings saved').waitFor();
    const saved = (parse(readFileSync(gateway.configFile, 'utf8')) as { cloud: Record<string, unknown> }).cloud;
    assert.equal(saved.profile, 'aws-iot-core');
    assert.equal(saved.url, `mqtts://${AWS_HOST}:8883`);
    assert.equal(saved.clientId, undefined);
    assert.equal(saved.inFlight, 100);
    await captureScreen(page, 'cloud-platform-aws-saved');

    await page.reload();
    await goTo(page, 'Cloud');
    await waitFor('the saved URL in the form', async () => (await page.getByLabel('Broker URL').inputValue()) === `mqtts://${AWS_HOST}:8883`);
    assert.equal(await page.getByRole('radio', { checked: true }).getAttribute('value'), 'aws-iot-core');
    assert.equal(await page.getByLabel('In flight').inputValue(), '100');
    assert.equal(await page.getByLabel('Readings / message').inputValue(), '', 'a value that is only the default shows as the placeholder');
    assert.equal(await page.getByLabel('Client id', { exact: true }).inputValue(), 'plant3-line2_gw-7');
    assert.deepEqual(problems, []);
  });
});
