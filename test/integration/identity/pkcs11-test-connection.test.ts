// The setup UI's "Test connection" with the device key in a token: the tester takes the key from
// the key store (an engine reference), not from a PEM file, and the broker sees the CN.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { identityStoreFromConfig } from '../../../main/identity/from-config.js';
import { silentLogger } from '../../../main/log/logger.js';
import { systemClock } from '../../../main/shared/clock.js';
import { cloudSchema } from '../../../main/shared/config/cloud.js';
import { CloudTester } from '../../../main/uplink/test-connection.js';
import { GATEWAY_ID, provisionInToken, tokenWorkspace, useTokenRig } from './fixture.js';

const tokenRig = useTokenRig();

test('testCloud connects with the on-box identity whose key stays in the token', async () => {
  const rig = tokenRig();
  const hsm = await rig.token();
  const ws = rig.track(tokenWorkspace({ hsm, broker: rig.broker, brokerCaFile: rig.pki.ca.certPath }));
  await provisionInToken(ws, hsm, rig.pki);
  // SoftHSM reads its config when this process first opens the token: there is one token per process.
  process.env.SOFTHSM2_CONF = hsm.env.SOFTHSM2_CONF;
  const store = identityStoreFromConfig(ws.config);
  const tester = new CloudTester({
    gatewayId: GATEWAY_ID,
    onBoxIdentity: { certFile: store.paths.cert, key: (certPem) => store.usableKey(certPem) },
    caDir: ws.dataDir,
    log: silentLogger,
    clock: systemClock,
  });
  const result = await tester.test({ settings: cloudSchema.parse({ url: rig.broker.url, caFile: rig.pki.ca.certPath }) });
  assert.deepEqual(result, { ok: true, broker: rig.broker.url, message: `connected to ${rig.broker.url} as "${GATEWAY_ID}"; nothing was saved` });
  assert.equal('key' in store.keyStore.read(store.paths.key).tls, false, 'the key store hands TLS a token reference, not key bytes');
});
