import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { decodeEddystone } from '../../../../../main/sensors/ble/decoders/eddystone.js';
import { decodeIbeacon } from '../../../../../main/sensors/ble/decoders/ibeacon.js';
import { assertEveryTruncation, assertFails, bytes } from './checks.js';

describe('iBeacon (Apple manufacturer data 0x004C)', () => {
  // Theengs decoder tests/BLE/test_ble.cpp, "iBeacon BlueCharm_135727": uuid 426c…6e73, major 3838, minor 4949, txpower -59.
  const blueCharm = '0215426c7565436861726d426561636f6e730efe1355c5';
  const values = { presence: { value: 1, unit: 'bool' }, tx_power: { value: -59, unit: 'dBm' } };

  it('decodes Theengs\' BlueCharm vector as presence, identity and measured power', () => {
    const decoded = decodeIbeacon(bytes(blueCharm));
    assert.equal(decoded.format, 'ibeacon');
    assert.equal(decoded.beaconId, '426c7565-4368-6172-6d42-6561636f6e73/3838/4949');
    assert.deepEqual(decoded.values, values);
  });

  it('decodes Theengs\' NRF51822 vector (major 1, minor 2)', () => {
    assert.equal(decodeIbeacon(bytes('0215fda50693a4e24fb1afcfc6eb07647825000100021a')).beaconId, 'fda50693-a4e2-4fb1-afcf-c6eb07647825/1/2');
  });

  it('cut at every byte offset is refused', () => {
    assertEveryTruncation(bytes(blueCharm), decodeIbeacon, { full: values, reasons: ['truncated', 'unknown-format'] });
  });

  it('other Apple records are not iBeacons', () => {
    assertFails(() => decodeIbeacon(bytes('1005031c0a1b2c')), 'unknown-format');
  });
});

describe('Eddystone (service 0xFEAA)', () => {
  // Frames from AOSP's Bluetooth test-mode beacons (ScanController TEST_MODE_BEACONS, "BlueCharm" UID and TLM);
  // values per the Eddystone UID and TLM specifications (github.com/google/eddystone).
  const uid = '00ee626c7565636861726d310000000000010000';
  const tlm = '20000bf017000008874803fb9354';
  const uidValues = { presence: { value: 1, unit: 'bool' }, tx_power: { value: -18, unit: 'dBm' } };
  const tlmValues = {
    presence: { value: 1, unit: 'bool' },
    battery_voltage: { value: 3056, unit: 'mV' },
    temperature: { value: 23, unit: '°C' },
    uptime: { value: 6681890, unit: 's' },
  };

  it('decodes a UID frame: namespace "bluecharm1", instance 1, tx power at 0 m', () => {
    const decoded = decodeEddystone(bytes(uid));
    assert.equal(decoded.format, 'eddystone');
    assert.equal(decoded.beaconId, '626c7565636861726d31/000000000001');
    assert.deepEqual(decoded.values, uidValues);
  });

  it('decodes a TLM frame: battery, 8.8 fixed-point temperature, uptime in 0.1 s', () => {
    assert.deepEqual(decodeEddystone(bytes(tlm)).values, tlmValues);
  });

  it('cut at every byte offset is refused (a UID frame is complete without its 2 reserved bytes)', () => {
    assertEveryTruncation(bytes(uid), decodeEddystone, { full: uidValues, otherLayouts: [18, 19] });
    assertEveryTruncation(bytes(tlm), decodeEddystone, { full: tlmValues });
  });

  it('leaves out "not supported" TLM fields and refuses encrypted TLM and URL/EID frames', () => {
    assert.deepEqual(decodeEddystone(bytes('2000000080000000000100000010')).values, { presence: { value: 1, unit: 'bool' }, uptime: { value: 1.6, unit: 's' } });
    assertFails(() => decodeEddystone(bytes('2001aabbccddeeff00112233445566')), 'unknown-format');
    assertFails(() => decodeEddystone(bytes('10ee03676f6f676c6507')), 'unknown-format');
  });
});
