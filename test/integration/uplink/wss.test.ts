import assert from 'node:assert/strict';
import { createServer as createHttpsServer, type Server } from 'node:https';
import type { AddressInfo } from 'node:net';
import tls from 'node:tls';
import { after, before, describe, it } from 'node:test';
import { createPki, type IssuedCert, type Pki } from '../../helpers/pki.js';
import { startMosquitto, type Mosquitto } from '../../helpers/mosquitto.js';
import { cloudSubscriber, readingsOf, startRig, waitFor } from './fixture.js';

describe('uplink over wss:// (MQTT over WebSockets with mutual TLS)', () => {
  let pki: Pki;
  let broker: Mosquitto;

  before(async () => {
    pki = await createPki();
    broker = await startMosquitto({ pki, websockets: true });
  });

  after(async () => {
    await broker?.cleanup();
    await pki?.cleanup();
  });

  it("delivers through Mosquitto's websockets listener with the client certificate", async () => {
    const cloud = await cloudSubscriber(broker, pki);
    const gatewayId = 'gw-wss';
    const rig = await startRig({ broker, pki, client: await pki.issueClientCert({ cn: gatewayId }), gatewayId, url: broker.wsUrl, start: false });
    try {
      for (let i = 0; i < 5; i++) await rig.buffer.append({ sensorId: 's', ts: 1_700_000_000_000 + i, values: { t: { value: i, unit: '°C' } } });
      await rig.uplink.start();
      await waitFor(() => readingsOf(cloud.messages, 'fieldgate', gatewayId).length >= 5 || undefined, `5 readings over wss (broker log:\n${broker.log().slice(-1_500)})`);
      assert.equal(rig.uplink.status().state, 'connected');
      assert.match(rig.uplink.status().broker, /^wss:\/\/localhost:\d+$/);
    } finally {
      await rig.stop();
      await cloud.close();
    }
  });

  describe('the TLS 1.2 floor, where the process defaults allow older TLS (e.g. node --tls-min-v1.0 or a lax openssl.cnf)', () => {
    const lax = { minVersion: 'TLSv1' as const, ciphers: 'DEFAULT:@SECLEVEL=0' };
    const saved = { minVersion: tls.DEFAULT_MIN_VERSION, ciphers: tls.DEFAULT_CIPHERS };
    let server: Server;
    let serverCert: IssuedCert;
    const handshakes: string[] = [];

    before(async () => {
      tls.DEFAULT_MIN_VERSION = lax.minVersion;
      tls.DEFAULT_CIPHERS = lax.ciphers;
      serverCert = await pki.issueServerCert();
      // A broker stuck at TLS 1.1: an https server that would upgrade to WebSockets after the handshake.
      server = createHttpsServer({ cert: serverCert.certPem, key: serverCert.keyPem, ca: pki.ca.certPem, requestCert: true, maxVersion: 'TLSv1.1', ...lax }, (_req, res) => res.end());
      server.on('secureConnection', (socket) => handshakes.push(String(socket.getProtocol())));
      server.on('tlsClientError', () => undefined);
      await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    });

    after(async () => {
      tls.DEFAULT_MIN_VERSION = saved.minVersion;
      tls.DEFAULT_CIPHERS = saved.ciphers;
      await new Promise((resolve) => server.close(resolve));
    });

    for (const scheme of ['wss', 'mqtts'] as const) {
      it(`refuses a TLS 1.1 broker over ${scheme}://: no handshake completes, the error is tls`, async () => {
        handshakes.length = 0;
        const { port } = server.address() as AddressInfo;
        const gatewayId = 'gw-floor';
        const rig = await startRig({ broker, pki, client: await pki.issueClientCert({ cn: gatewayId }), gatewayId, url: `${scheme}://localhost:${port}` });
        try {
          const error = await waitFor(() => rig.uplink.status().lastError ?? undefined, 'the failed connect');
          assert.deepEqual(handshakes, [], 'the gateway never completed a TLS 1.1 handshake');
          assert.equal(error.kind, 'tls', error.message);
          assert.match(error.message, /share no TLS protocol version: the gateway requires TLS 1\.2 or newer/);
        } finally {
          await rig.stop();
        }
      });
    }
  });
});
