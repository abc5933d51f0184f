import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { validateConfig } from '../../../../main/config/validate.js';
import { ConfigError } from '../../../../main/shared/errors.js';

function withSerial(serial: unknown[]): unknown {
  return { gateway: { id: 'gw-1', dataDir: '/tmp/fg' }, sensors: { serial } };
}

function problems(serial: unknown[]): string[] {
  try {
    validateConfig(withSerial(serial));
  } catch (error) {
    assert.ok(error instanceof ConfigError);
    return error.problems;
  }
  assert.fail('expected a ConfigError');
}

const jsonl = { id: 'bench', path: '/dev/ttyUSB0', format: 'jsonl', sensorId: 't1' };

describe('serial config', () => {
  it('fills defaults for a minimal port', () => {
    const config = validateConfig(withSerial([jsonl]));
    assert.deepEqual(config.sensors.serial[0], {
      id: 'bench',
      path: '/dev/ttyUSB0',
      baudRate: 9600,
      dataBits: 8,
      parity: 'none',
      stopBits: 1,
      format: 'jsonl',
      sensor: { kind: 'fixed', sensorId: 't1' },
      maxLineBytes: 4096,
      maxLinesPerSecond: 100,
      maxValuesPerReading: 64,
    });
  });

  it('accepts a USB match instead of a path and normalises the ids', () => {
    const config = validateConfig(withSerial([{ ...jsonl, path: undefined, match: { vendorId: '0x0403', productId: '6001', serialNumber: 'A50285BI' } }]));
    assert.deepEqual(config.sensors.serial[0]?.match, { vendorId: '0403', productId: '6001', serialNumber: 'A50285BI' });
  });

  it('names the key when csv has no columns', () => {
    assert.deepEqual(problems([{ id: 'c', path: '/dev/ttyS1', format: 'csv', sensorId: 's' }]), [
      '"sensors.serial.0.columns": format "csv" needs columns: a list of "skip", "sensorId" or { quantity, unit }, got nothing',
    ]);
  });

  it('explains wrong or missing keys per format', () => {
    assert.match(problems([{ ...jsonl, path: undefined }])[0] ?? '', /^"sensors\.serial\.0\.path": give exactly one of path .* or match/);
    assert.match(problems([{ ...jsonl, sensorId: undefined }])[0] ?? '', /^"sensors\.serial\.0\.sensorId": give exactly one of sensorId .* or sensorIdFrom/);
    assert.match(problems([{ ...jsonl, slaves: [] }]).join('\n'), /"sensors\.serial\.0\.slaves": expected at least one slave/);
    assert.match(problems([{ ...jsonl, intervalMs: 100 }])[0] ?? '', /"sensors\.serial\.0\.intervalMs": only used by format "modbus-rtu", not "jsonl"/);
    assert.match(problems([{ ...jsonl, format: 'xml' }])[0] ?? '', /"sensors\.serial\.0\.format": .*"jsonl".*"modbus-rtu"/);
    assert.match(problems([{ id: 'm', path: '/dev/ttyS1', format: 'modbus-rtu' }])[0] ?? '', /"sensors\.serial\.0\.slaves": format "modbus-rtu" needs slaves/);
    assert.match(problems([{ ...jsonl, parity: 'evn' }])[0] ?? '', /"sensors\.serial\.0\.parity": .*"even"/);
    assert.match(problems([{ ...jsonl, ignore: '(' }])[0] ?? '', /"sensors\.serial\.0\.ignore": expected a valid regular expression/);
  });

  it('suggests the intended key for a typo', () => {
    assert.deepEqual(problems([{ ...jsonl, baudrate: 115200 }]), ['"sensors.serial.0.baudrate": unknown key; did you mean "baudRate"?']);
  });

  it('checks Modbus slaves and register maps', () => {
    const modbus = {
      id: 'meters',
      path: '/dev/ttyUSB1',
      format: 'modbus-rtu',
      slaves: [
        { address: 1, sensorId: 'meter-1', registers: [{ quantity: 'voltage', unit: 'V', table: 'input', address: 0, type: 'float32' }] },
        { address: 1, sensorId: 'meter-2', registers: [{ quantity: 'energy', address: 0, type: 'u64' }] },
      ],
    };
    const found = problems([modbus]);
    assert.ok(found.some((p) => p.startsWith('"sensors.serial.0.slaves.1.registers.0.type": ')), found.join('\n'));
    const fixedType = structuredClone(modbus);
    (fixedType.slaves[1]?.registers[0] as { type: string }).type = 'u32';
    assert.deepEqual(problems([fixedType]), ['"sensors.serial.0.slaves.1.address": slave address listed twice on this port, got 1']);
  });

  it('refuses repeated port ids, paths and sensor ids across ports', () => {
    const found = problems([jsonl, { ...jsonl, id: 'bench2' }]);
    assert.deepEqual(found, [
      '"sensors.serial.1.path": path already used by sensors.serial.0, got "/dev/ttyUSB0"',
      '"sensors.serial.1.sensorId": sensor id already used by sensors.serial.0, got "t1"',
    ]);
  });

  it('requires a valid quantity name for fields used as is', () => {
    assert.match(problems([{ ...jsonl, fields: { '1st': { unit: 'V' } } }])[0] ?? '', /"sensors\.serial\.0\.fields\.1st\.quantity": field "1st" is not a valid quantity name/);
  });

  it('refuses two values under one quantity name', () => {
    const columns = [{ quantity: 'temperature' }, { quantity: 'temperature', unit: 'K' }];
    assert.deepEqual(problems([{ id: 'c', path: '/dev/ttyS1', format: 'csv', sensorId: 's', columns }]), [
      '"sensors.serial.0.columns.1.quantity": quantity already used by another value of this sensor, got "temperature"',
    ]);
    const fields = { t: { quantity: 'temperature' }, temperature: { unit: 'K' } };
    assert.match(problems([{ ...jsonl, fields }])[0] ?? '', /"sensors\.serial\.0\.fields\.temperature\.quantity": quantity already used/);
    const registers = [{ quantity: 'power', address: 0 }, { quantity: 'power', address: 65535, type: 'u32' }];
    const found = problems([{ id: 'm', path: '/dev/ttyS2', format: 'modbus-rtu', slaves: [{ address: 1, sensorId: 'm1', registers }] }]);
    assert.deepEqual(found, [
      '"sensors.serial.0.slaves.0.registers.1.address": a u32 spans two registers: expected an address up to 65534, got 65535',
      '"sensors.serial.0.slaves.0.registers.1.quantity": quantity already used by another value of this sensor, got "power"',
    ]);
  });

  it('caps values per reading at maxValuesPerReading and refuses a port that maps more', () => {
    assert.equal(validateConfig(withSerial([{ ...jsonl, maxValuesPerReading: 8 }])).sensors.serial[0]?.format, 'jsonl');
    assert.match(problems([{ ...jsonl, maxValuesPerReading: 0 }])[0] ?? '', /^"sensors\.serial\.0\.maxValuesPerReading": /);
    assert.match(problems([{ ...jsonl, format: 'modbus-rtu', sensorId: undefined, maxValuesPerReading: 8 }]).join('\n'), /"sensors\.serial\.0\.maxValuesPerReading": not used by format "modbus-rtu"/);
    const fields = Object.fromEntries(Array.from({ length: 3 }, (_, i) => [`f${i}`, {}]));
    assert.deepEqual(problems([{ ...jsonl, fields, maxValuesPerReading: 2 }]), [
      '"sensors.serial.0.maxValuesPerReading": this port maps 3 values, more than 2 per reading: raise maxValuesPerReading to at least 3, got 2',
    ]);
  });
});
