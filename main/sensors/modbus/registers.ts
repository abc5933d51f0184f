import { registerWidth, type ModbusRegisterConfig } from '../../shared/config/modbus.js';
import { scaleValue } from '../serial/scale.js';
import { FUNCTION_FOR_TABLE, maxReadCount, type ReadFunction } from './pdu.js';

/** One read request's worth of registers or bits: contiguous, same table, within the function's limit. */
export interface RegisterBlock {
  fn: ReadFunction;
  address: number;
  count: number;
  registers: ModbusRegisterConfig[];
}

/** Unused addresses a block may span to save a round trip instead of splitting the request. */
const MAX_GAP = 8;

/** Groups a device's registers into as few read requests as the per-function limits allow. */
export function planBlocks(registers: readonly ModbusRegisterConfig[]): RegisterBlock[] {
  const blocks: RegisterBlock[] = [];
  for (const table of ['holding', 'input', 'coil', 'discrete'] as const) {
    const fn = FUNCTION_FOR_TABLE[table];
    const sorted = registers.filter((r) => r.table === table).sort((a, b) => a.address - b.address);
    let current: RegisterBlock | undefined;
    for (const register of sorted) {
      const end = register.address + registerWidth(register.type);
      const currentEnd = current ? current.address + current.count : 0;
      if (current && register.address <= currentEnd + MAX_GAP && Math.max(end, currentEnd) - current.address <= maxReadCount(fn)) {
        current.count = Math.max(end, currentEnd) - current.address;
        current.registers.push(register);
      } else {
        current = { fn, address: register.address, count: end - register.address, registers: [register] };
        blocks.push(current);
      }
    }
  }
  return blocks;
}

/**
 * The value of `register` from a block's data (words, or bits as 0/1): scaled for registers, 1 or
 * 0 for a bit; undefined for a float32 NaN/Infinity (devices use those to say "no reading").
 */
export function decodeRegister(register: ModbusRegisterConfig, block: { address: number }, data: readonly number[]): number | undefined {
  const at = register.address - block.address;
  const first = data[at] ?? 0;
  if (register.type === 'bool') return first === 0 ? 0 : 1;
  let raw: number;
  if (register.type === 'u16') raw = first;
  else if (register.type === 's16') raw = first >= 0x8000 ? first - 0x10000 : first;
  else {
    const second = data[at + 1] ?? 0;
    const [high, low] = register.wordOrder === 'big' ? [first, second] : [second, first];
    const bytes = Buffer.alloc(4);
    bytes.writeUInt16BE(high, 0);
    bytes.writeUInt16BE(low, 2);
    // A float32 carries about 7 significant digits; more would be conversion noise (0.1 → 0.10000000149).
    raw = register.type === 'u32' ? bytes.readUInt32BE(0) : register.type === 's32' ? bytes.readInt32BE(0) : Number(bytes.readFloatBE(0).toPrecision(7));
  }
  return scaleValue(raw, register.scale, register.offset);
}
