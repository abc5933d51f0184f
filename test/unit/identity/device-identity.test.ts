import { test } from 'node:test';
import assert from 'node:assert/strict';
import { validateConfig } from '../../../main/config/validate.js';
import { createDeviceIdentity } from '../../../main/identity/device-identity.js';
import { silentLogger } from '../../../main/log/logger.js';
import { createMetricsRegistry } from '../../../main/metrics/registry.js';
import { systemClock } from '../../../main/shared/clock.js';

test('fieldgate_identity_key_store names the key store in use, without touching the token', async () => {
  const metrics = createMetricsRegistry({ processMetrics: false });
  const gauge = async () => (await metrics.getSingleMetric('fieldgate_identity_key_store')?.get())?.values.map((v) => ({ kind: v.labels.kind, value: v.value }));
  const gateway = { id: 'gw-1', dataDir: '/nonexistent/fieldgate' };
  createDeviceIdentity({ config: validateConfig({ gateway }), log: silentLogger, clock: systemClock, metrics });
  assert.deepEqual(await gauge(), [{ kind: 'file', value: 1 }]);
  const pkcs11 = { module: '/nonexistent/libpkcs11.so', tokenLabel: 'fg', pinFile: '/nonexistent/pin' };
  createDeviceIdentity({ config: validateConfig({ gateway, identity: { keyStore: 'pkcs11', pkcs11 } }), log: silentLogger, clock: systemClock, metrics });
  assert.deepEqual(await gauge(), [{ kind: 'pkcs11', value: 1 }], 'a rebuilt identity replaces the kind');
});
