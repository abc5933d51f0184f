import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { createPki, type Pki } from '../../helpers/pki.js';
import { startMosquitto, type Mosquitto } from '../../helpers/mosquitto.js';
import { cloudSubscriber, startRig, waitFor } from './support.js';

describe('uplink graceful close against a real Mosquitto with mutual TLS', () => {
  let pki: Pki;
  let broker: Mosquitto;
  let cloud: Awaited<ReturnType<typeof cloudSubscriber>>;

  before(async () => {
    pki = await createPki();
    broker = await startMosquitto({ pki });
    cloud = await cloudSubscriber(broker, pki);
  });

  after(async () => {
    await cloud?.close();
    await broker?.cleanup();
    await pki?.cleanup();
  });

  it('waits for the PUBACK of a control publish before it closes', async () => {
    const gw = await pki.issueClientCert({ cn: 'gw-close' });
    const rig = await startRig({ broker, pki, client: gw, gatewayId: 'gw-close' });
    try {
      await waitFor(() => rig.uplink.status().state === 'connected', 'connected');
      // A stalled broker holds the PUBACK: the publish is pending when the close begins.
      broker.signal('SIGSTOP');
      let outcome: 'acknowledged' | Error | undefined;
      rig.uplink.publishControl('cert/csr', { csr: 'PEM' }).then(
        () => (outcome = 'acknowledged'),
        (error: Error) => (outcome = error),
      );
      const resume = setTimeout(() => broker.signal('SIGCONT'), 500);
      await rig.uplink.stop();
      clearTimeout(resume);
      assert.equal(outcome, 'acknowledged', 'stop() resolved only after the control publish was acknowledged');
      await waitFor(() => cloud.messages.find((m) => m.topic === 'fieldgate/gw-close/cert/csr'), 'the control message at the cloud');
      const lastStatus = () => cloud.messages.filter((m) => m.topic === 'fieldgate/gw-close/status').map((m) => JSON.parse(m.text) as { online: boolean }).at(-1);
      await waitFor(() => lastStatus()?.online === false, 'then the retained offline status');
    } finally {
      broker.signal('SIGCONT');
      await rig.stop();
    }
  });
});
