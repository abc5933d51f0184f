import { test } from 'node:test';
import assert from 'node:assert/strict';
import { API_EVENT_TYPES, apiMethods, gatewayStatusSchema, METHOD_NAMES, roleAllows } from '../../../main/shared/api.js';
import { STATUS } from './fake-backends.js';

test('only setup and login are public; technician is the floor; admin includes technician', () => {
  const open = METHOD_NAMES.filter((name) => apiMethods[name].access === 'public');
  assert.deepEqual(open, ['setupState', 'completeSetup', 'login']);
  assert.equal(roleAllows(undefined, 'technician'), false);
  assert.equal(roleAllows('technician', 'admin'), false);
  assert.equal(roleAllows('admin', 'technician'), true);
  for (const name of ['users', 'addUser', 'config', 'updateConfig', 'saveCloud', 'testCloud', 'importCertificate', 'createCsr', 'rotateNow', 'uploadBundle', 'installBundle', 'rollback'] as const) {
    assert.equal(apiMethods[name].access, 'admin', name);
  }
  for (const name of ['startPairing', 'addBleSensor', 'removeBleSensor', 'removeSensor', 'startSerialPreview', 'logs', 'status'] as const) {
    assert.equal(apiMethods[name].access, 'technician', name);
  }
});

test('the status type is complete: no open records, and the sample parses', () => {
  assert.deepEqual(gatewayStatusSchema.parse(STATUS), STATUS);
  assert.deepEqual(Object.keys(gatewayStatusSchema.shape).sort(), ['alerts', 'buffer', 'components', 'gatewayId', 'identity', 'sensors', 'startedAt', 'uplink', 'version']);
});

test('the event union names every live update the UI needs', () => {
  for (const type of ['status', 'values', 'alert', 'pairing-nearby', 'serial-preview', 'ota-progress', 'log', 'session']) {
    assert.ok(API_EVENT_TYPES.includes(type as never), type);
  }
});
