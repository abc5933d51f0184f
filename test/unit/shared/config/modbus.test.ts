import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { validateConfig } from '../../../../main/config/validate.js';
import { ConfigError } from '../../../../main/shared/errors.js';

function withSensors(sensors: Record<string, unknown>): unknown {
  return { gateway: { id: 'gw-1', dataDir: '/tmp/fg' }, sensors };
}

function problems(sensors: Record<string, unknown>): string[] {
  try {
    validateConfig(withSensors(sensors));
  } catch (error) {
    assert.ok(error instanceof ConfigError);
    return error.problems;
  }
  assert.fail('expected a ConfigError');
}

const server = (overrides: Record<string, unknown> = {}) => ({
  id: 'plc',
  host: '192.0.2.10',
  units: [{ unitId: 1, sensorId: 'meter', registers: [{ quantity: 'power', address: 0 }] }],
  ...overrides,
});

describe('Modbus config (sensors.modbusTcp and register maps)', () => {
  it('fills the defaults of a server and of bit registers', () => {
    const config = validateConfig(
      withSensors({ modbusTcp: [server({ units: [{ unitId: 255, sensorId: 'meter', registers: [{ quantity: 'power', address: 0 }, { quantity: 'pump', table: 'coil', address: 3 }] }] })] }),
    );
    assert.deepEqual(config.sensors.modbusTcp[0], {
      id: 'plc',
      host: '192.0.2.10',
      port: 502,
      intervalMs: 1000,
      timeoutMs: 1000,
      connectTimeoutMs: 5000,
      units: [
        {
          unitId: 255,
          sensorId: 'meter',
          registers: [
            { quantity: 'power', unit: '', table: 'holding', address: 0, type: 'u16', wordOrder: 'big', scale: 1, offset: 0 },
            { quantity: 'pump', unit: 'bool', table: 'coil', address: 3, type: 'bool', wordOrder: 'big', scale: 1, offset: 0 },
          ],
        },
      ],
    });
  });

  it('names the key for bits given register options and registers given bool', () => {
    const found = problems({
      serial: [
        {
          id: 'rtu',
          path: '/dev/ttyUSB0',
          format: 'modbus-rtu',
          slaves: [{ address: 1, sensorId: 's1', registers: [{ quantity: 'a', table: 'discrete', address: 0, scale: 2 }, { quantity: 'b', address: 1, type: 'bool' }, { quantity: 'c', table: 'coil', address: 2, type: 'u16' }] }],
        },
      ],
    });
    assert.ok(found.some((p) => p.startsWith('"sensors.serial.0.slaves.0.registers.0.scale') && p.includes('booleans')), found.join('\n'));
    assert.ok(found.some((p) => p.startsWith('"sensors.serial.0.slaves.0.registers.1.type') && p.includes('"coil" or "discrete"')), found.join('\n'));
    assert.ok(found.some((p) => p.startsWith('"sensors.serial.0.slaves.0.registers.2.type') && p.includes('holds bits')), found.join('\n'));
  });

  it('refuses repeated unit ids, server ids and sensor ids, also against serial ports', () => {
    const found = problems({
      serial: [{ id: 'p1', path: '/dev/ttyUSB0', format: 'jsonl', sensorId: 'meter' }],
      modbusTcp: [
        server({ units: [{ unitId: 1, sensorId: 'a', registers: [{ quantity: 'q', address: 0 }] }, { unitId: 1, sensorId: 'b', registers: [{ quantity: 'q', address: 0 }] }] }),
        server({ units: [{ unitId: 2, sensorId: 'a', registers: [{ quantity: 'q', address: 0 }] }] }),
      ],
    });
    assert.ok(found.some((p) => p.startsWith('"sensors.modbusTcp.0.units.1.unitId') && p.includes('listed twice')), found.join('\n'));
    const second = problems({ serial: [{ id: 'p1', path: '/dev/ttyUSB0', format: 'jsonl', sensorId: 'meter' }], modbusTcp: [server(), server({ id: 'plc2', units: [{ unitId: 2, sensorId: 'other', registers: [{ quantity: 'q', address: 0 }] }] })] });
    assert.ok(second.some((p) => p.startsWith('"sensors.modbusTcp.0.units.0.sensorId') && p.includes('sensors.serial.0')), second.join('\n'));
    const ids = problems({ modbusTcp: [server(), server({ units: [{ unitId: 1, sensorId: 'x', registers: [{ quantity: 'q', address: 0 }] }] })] });
    assert.ok(ids.some((p) => p.startsWith('"sensors.modbusTcp.1.id') && p.includes('sensors.modbusTcp.0')), ids.join('\n'));
  });

  it('suggests the intended key for a typo and names the allowed unit id range', () => {
    assert.ok(problems({ modbusTcp: [server({ hots: 'x' })] }).some((p) => p.includes('hots') && p.includes('host')));
    assert.ok(problems({ modbusTcp: [server({ units: [{ unitId: 256, sensorId: 'm', registers: [{ quantity: 'q', address: 0 }] }] })] }).some((p) => p.includes('unitId') && p.includes('0-255')));
  });
});
