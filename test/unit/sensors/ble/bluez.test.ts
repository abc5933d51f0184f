import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { emptyDeviceProperties, mergeDeviceProperties } from '../../../../main/sensors/ble/bluez.js';

describe('mergeDeviceProperties', () => {
  it('keeps the advertised Name apart from a user-set Alias (Inkbird is recognised by its Name)', () => {
    const merged = mergeDeviceProperties(emptyDeviceProperties(), { Address: 'aa:bb:cc:dd:ee:ff', Alias: 'Cold room', Name: 'sps' });
    assert.equal(merged.name, 'Cold room');
    assert.equal(merged.localName, 'sps');
    assert.equal(mergeDeviceProperties(merged, { RSSI: -60 }).localName, 'sps', 'kept across updates');
  });
});
