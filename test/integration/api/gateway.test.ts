import { test } from 'node:test';
import assert from 'node:assert/strict';
import { apiMethods } from '../../../main/shared/api.js';
import { setUpAdmin, startGateway } from './fixture.js';

test('a real gateway answers status, config, schema and about with their contract shapes', async (t) => {
  const gw = await startGateway(t);
  const admin = await setUpAdmin(gw);
  for (const name of ['status', 'config', 'schema', 'about', 'session', 'users'] as const) {
    const answer = await admin.call(name, {});
    assert.equal(answer.status, 200, `${name}: ${JSON.stringify(answer.body)}`);
    assert.ok(apiMethods[name].result.safeParse(answer.body).success, name);
  }
  const status = (await admin.call('status')).body as { sensors: { sensorId: string }[]; uplink: unknown; buffer: { depth: number } };
  assert.deepEqual(status.sensors.map((sensor) => sensor.sensorId), ['sim-a']);
  assert.equal(status.uplink, null);
  const config = (await admin.call('config')).body as { version: string; config: { gateway: { id: string } } };
  assert.equal(config.config.gateway.id, 'gw-api');
  assert.match(config.version, /\S+/);
  const about = (await admin.call('about')).body as { gatewayId: string; httpsFingerprint: string | null };
  assert.deepEqual(about, { ...about, gatewayId: 'gw-api', httpsFingerprint: null });
});
