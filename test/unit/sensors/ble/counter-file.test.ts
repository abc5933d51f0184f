import assert from 'node:assert/strict';
import { chmodSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { counterFileText, readCounterFile } from '../../../../main/sensors/ble/counter-file.js';

const root = mkdtempSync(join(tmpdir(), 'fieldgate-ble-counters-'));
after(() => rmSync(root, { recursive: true, force: true }));
let n = 0;
const fileWith = (text: string): string => {
  const file = join(root, `counters-${n++}.json`);
  writeFileSync(file, text);
  return file;
};

describe('BLE counters file', () => {
  it('round-trips counters and unknown states with the pairing they belong to', () => {
    const text = counterFileText(
      new Map([
        ['A4:C1:38:00:00:01', { pairedAt: 1000, saved: { counter: 7 } }],
        ['A4:C1:38:00:00:02', { pairedAt: 2000, saved: { unknown: true } as const }],
      ]),
    );
    assert.equal(text, '{"version":2,"devices":{"A4:C1:38:00:00:01":{"pairedAt":1000,"counter":7},"A4:C1:38:00:00:02":{"pairedAt":2000,"unknown":true}}}');
    const read = readCounterFile(fileWith(text));
    assert.equal(read.kind, 'read');
    assert.deepEqual(read.kind === 'read' && [...read.devices], [
      ['A4:C1:38:00:00:01', { pairedAt: 1000, saved: { counter: 7 } }],
      ['A4:C1:38:00:00:02', { pairedAt: 2000, saved: { unknown: true } }],
    ]);
  });

  it('reads the first format (MAC → counter) without a pairing', () => {
    const read = readCounterFile(fileWith('{"A4:C1:38:00:00:01":42}'));
    assert.deepEqual(read.kind === 'read' && [...read.devices], [['A4:C1:38:00:00:01', { saved: { counter: 42 } }]]);
  });

  it('tells a missing file from an unreadable one', () => {
    assert.deepEqual(readCounterFile(join(root, 'nothing.json')), { kind: 'missing' });
    for (const text of ['', '{"version":2,"devices":{"A4:', '[]', '{"A4:C1:38:00:00:01":-1}', '{"version":2,"devices":{"m":{"counter":1}}}']) {
      assert.equal(readCounterFile(fileWith(text)).kind, 'unreadable', text);
    }
    if (process.getuid?.() !== 0) {
      const locked = fileWith('{}');
      chmodSync(locked, 0o000);
      assert.equal(readCounterFile(locked).kind, 'unreadable');
    }
  });
});
