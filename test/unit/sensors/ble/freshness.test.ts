import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { DecodedAdvertisement } from '../../../../main/sensors/ble/decoders/types.js';
import { FreshnessGate, type Freshness } from '../../../../main/sensors/ble/freshness.js';

const MAC = '54:48:E6:8F:80:A5';

function encrypted(counter: number): DecodedAdvertisement {
  return { format: 'bthome-v2', encrypted: true, counter, values: {} };
}

function plain(repeatId?: number): DecodedAdvertisement {
  return { format: 'bthome-v2', encrypted: false, values: { temperature: { value: 20, unit: '°C' } }, ...(repeatId === undefined ? {} : { repeatId }) };
}

describe('FreshnessGate', () => {
  const table: Array<{ name: string; keyed: boolean; frames: Array<[DecodedAdvertisement, string, Freshness, number?]> }> = [
    {
      name: 'rising counters are fresh, a lower one is stale',
      keyed: true,
      frames: [
        [encrypted(100), 'a', 'fresh'],
        [encrypted(101), 'b', 'fresh'],
        [encrypted(100), 'a', 'stale'],
        [encrypted(102), 'c', 'fresh'],
      ],
    },
    {
      name: 'the same frame again is a repeat; the same counter with other bytes is a replay',
      keyed: true,
      frames: [
        [encrypted(7), 'a', 'fresh'],
        [encrypted(7), 'a', 'repeat'],
        [encrypted(7), 'b', 'replay'],
      ],
    },
    {
      name: 'a small counter after large ones is stale: a reset cannot be told from a replayed capture',
      keyed: true,
      frames: [
        [encrypted(5000), 'a', 'fresh'],
        [encrypted(1), 'b', 'stale'],
        [encrypted(16), 'c', 'stale'],
        [encrypted(5001), 'd', 'fresh'],
      ],
    },
    {
      name: 'plaintext from a keyed device is a downgrade, even before any encrypted frame',
      keyed: true,
      frames: [
        [plain(1), 'p', 'downgrade'],
        [encrypted(1), 'a', 'fresh'],
        [plain(2), 'q', 'downgrade'],
      ],
    },
    {
      name: 'plain frames are deduplicated by packet id / sequence, or by identical bytes within 30 s without one',
      keyed: false,
      frames: [
        [plain(9), 'a', 'fresh', 0],
        [plain(9), 'a', 'repeat', 1_000],
        [plain(10), 'b', 'fresh', 2_000],
        [plain(), 'c', 'fresh', 3_000],
        [plain(), 'c', 'repeat', 32_999],
        [plain(), 'd', 'fresh', 33_000],
        [plain(), 'd', 'fresh', 63_000],
        [plain(10), 'b', 'fresh', 64_000],
      ],
    },
  ];
  for (const row of table) {
    it(row.name, () => {
      const gate = new FreshnessGate();
      const verdicts = row.frames.map(([decoded, frameHex, , receivedAt]) =>
        gate.judge({ mac: MAC, decoded, keyed: row.keyed, frameHex, receivedAt: receivedAt ?? 0 }),
      );
      assert.deepEqual(verdicts, row.frames.map(([, , expected]) => expected));
    });
  }

  it('keeps devices apart, restores persisted counters and forgets on request', () => {
    const gate = new FreshnessGate();
    gate.restore(MAC, { counter: 500 });
    assert.equal(gate.judge({ mac: MAC, decoded: encrypted(400), keyed: true, frameHex: 'a', receivedAt: 0 }), 'stale');
    assert.equal(gate.judge({ mac: 'AA:AA:AA:AA:AA:AA', decoded: encrypted(400), keyed: true, frameHex: 'a', receivedAt: 0 }), 'fresh');
    assert.deepEqual([gate.saved(MAC), gate.saved('AA:AA:AA:AA:AA:AA'), gate.saved('BB:BB:BB:BB:BB:BB')], [{ counter: 500 }, { counter: 400 }, undefined]);
    gate.forget(MAC);
    assert.equal(gate.judge({ mac: MAC, decoded: encrypted(400), keyed: true, frameHex: 'a', receivedAt: 0 }), 'fresh');
  });

  it('refuses every frame of a device whose counter is unknown until it is forgotten (re-paired)', () => {
    const gate = new FreshnessGate();
    gate.restore(MAC, { unknown: true });
    for (const counter of [0, 1, 2 ** 32 - 1]) {
      assert.equal(gate.judge({ mac: MAC, decoded: encrypted(counter), keyed: true, frameHex: `f${counter}`, receivedAt: 0 }), 'counter-unknown');
    }
    assert.deepEqual(gate.saved(MAC), { unknown: true });
    gate.forget(MAC);
    assert.equal(gate.judge({ mac: MAC, decoded: encrypted(3), keyed: true, frameHex: 'a', receivedAt: 0 }), 'fresh');
  });
});
