import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createMetricsRegistry } from '../../../main/metrics/registry.js';
import { TlsSessionCache } from '../../../main/uplink/tls-session-cache.js';
import { createPki } from '../../helpers/pki.js';

test('the secure context is built once per broker and credentials; a new certificate, CA or broker gets a new one and no ticket', async () => {
  const pki = await createPki();
  try {
    const first = await pki.issueClientCert({ cn: 'gw-1' });
    const rotated = await pki.issueClientCert({ cn: 'gw-1' });
    const credentials = { ca: pki.ca.certPem, cert: first.certPem, key: first.keyPem };
    const cache = new TlsSessionCache(createMetricsRegistry({ processMetrics: false }));
    const url = 'mqtts://broker.example:8883';
    const slot = cache.slot(url, credentials, 'TLSv1.2');
    assert.equal(slot.session, undefined, 'no ticket before the first connection');
    assert.equal(cache.slot(url, credentials, 'TLSv1.2').secureContext, slot.secureContext, 'same credentials: the same context');
    const changes = [
      cache.slot(url, { ...credentials, cert: rotated.certPem, key: rotated.keyPem }, 'TLSv1.2'),
      cache.slot(url, { ...credentials, ca: `${pki.ca.certPem}${pki.ca.certPem}` }, 'TLSv1.2'),
      cache.slot('mqtts://other.example:8883', credentials, 'TLSv1.2'),
    ];
    for (const changed of changes) {
      assert.notEqual(changed.secureContext, slot.secureContext);
      assert.equal(changed.session, undefined);
    }
  } finally {
    await pki.cleanup();
  }
});

test('watch() ignores a transport that is not TLS (plaintext or WebSocket)', () => {
  const cache = new TlsSessionCache(createMetricsRegistry({ processMetrics: false }));
  const slot = cache.slot('mqtts://broker.example:8883', { ca: '', cert: '', key: '' }, 'TLSv1.2');
  assert.doesNotThrow(() => slot.watch({ on: () => assert.fail('subscribed to a non-TLS stream') }));
});
