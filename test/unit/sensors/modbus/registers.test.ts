import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { ModbusRegisterConfig } from '../../../../main/shared/config/modbus.js';
import { decodeRegister, planBlocks } from '../../../../main/sensors/modbus/registers.js';

function reg(partial: Partial<ModbusRegisterConfig> & { address: number }): ModbusRegisterConfig {
  return { quantity: 'q', unit: '', table: 'holding', type: 'u16', wordOrder: 'big', scale: 1, offset: 0, ...partial };
}

describe('Modbus register maps', () => {
  it('groups nearby registers of one table into one request and splits tables and far addresses', () => {
    const blocks = planBlocks([
      reg({ address: 10, type: 'float32' }),
      reg({ address: 0 }),
      reg({ address: 3, type: 's32' }),
      reg({ address: 5, table: 'input' }),
      reg({ address: 500 }),
    ]);
    assert.deepEqual(
      blocks.map((b) => [b.fn, b.address, b.count, b.registers.length]),
      [
        [3, 0, 12, 3],
        [3, 500, 1, 1],
        [4, 5, 1, 1],
      ],
    );
  });

  it('never asks for more than 125 registers at once', () => {
    const registers = Array.from({ length: 200 }, (_, i) => reg({ address: i }));
    const blocks = planBlocks(registers);
    assert.ok(blocks.every((b) => b.count <= 125));
    assert.equal(blocks.reduce((sum, b) => sum + b.registers.length, 0), 200);
  });

  it('decodes u16, s16, u32, s32 and float32 in both word orders, with scale and offset', () => {
    const block = { address: 100 };
    assert.equal(decodeRegister(reg({ address: 100 }), block, [0xfff6]), 65526);
    assert.equal(decodeRegister(reg({ address: 100, type: 's16', scale: 0.1 }), block, [0xfff6]), -1);
    assert.equal(decodeRegister(reg({ address: 101, type: 'u32' }), block, [0, 0x0001, 0x86a0]), 100_000);
    assert.equal(decodeRegister(reg({ address: 101, type: 'u32', wordOrder: 'little' }), block, [0, 0x86a0, 0x0001]), 100_000);
    assert.equal(decodeRegister(reg({ address: 100, type: 's32' }), block, [0xffff, 0xfffe]), -2);
    assert.equal(decodeRegister(reg({ address: 100, type: 'float32' }), block, [0x41ac, 0x0000]), 21.5);
    assert.equal(decodeRegister(reg({ address: 100, type: 'float32', wordOrder: 'little' }), block, [0xcccd, 0x3dcc]), 0.1);
    assert.equal(decodeRegister(reg({ address: 100, scale: 0.01, offset: -40 }), block, [6150]), 21.5);
  });

  it('treats a float32 NaN as no value', () => {
    assert.equal(decodeRegister(reg({ address: 0, type: 'float32' }), { address: 0 }, [0x7fc0, 0]), undefined);
  });

  it('plans coils and discrete inputs as bit blocks of up to 2000, apart from registers', () => {
    const blocks = planBlocks([
      reg({ address: 0 }),
      reg({ address: 0, table: 'coil', type: 'bool' }),
      reg({ address: 5, table: 'coil', type: 'bool' }),
      reg({ address: 3, table: 'discrete', type: 'bool' }),
      ...Array.from({ length: 2001 }, (_, i) => reg({ address: 100 + i, table: 'discrete', type: 'bool' })),
    ]);
    assert.deepEqual(
      blocks.map((b) => [b.fn, b.address, b.count]),
      [
        [3, 0, 1],
        [1, 0, 6],
        [2, 3, 1],
        [2, 100, 2000],
        [2, 2100, 1],
      ],
    );
  });

  it('decodes a bit as 1 or 0', () => {
    const coil = reg({ address: 7, table: 'coil', type: 'bool', unit: 'bool' });
    assert.equal(decodeRegister(coil, { address: 5 }, [0, 0, 1]), 1);
    assert.equal(decodeRegister(coil, { address: 5 }, [1, 1, 0]), 0);
  });
});
