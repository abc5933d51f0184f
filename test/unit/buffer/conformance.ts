import type { Component } from '../../../main/shared/lifecycle.js';
import type { Sample } from '../../../main/shared/reading.js';
import type { BufferAlert, LeasedReading, ReadingBuffer } from '../../../main/buffer/types.js';
import assert from 'node:assert/strict';
import { afterEach, describe, it } from 'node:test';
import { bufferSchema, type BufferConfig } from '../../../main/shared/config/buffer.js';
import { expectedWire } from '../../helpers/wire.js';
import { ReadingDroppedError } from '../../../main/buffer/errors.js';

export type TestBuffer = ReadingBuffer & Component & { flush(): Promise<void> };

export interface ManualClock {
  now(): number;
  advance(ms: number): void;
}

export interface BufferSetup {
  options: BufferConfig;
  clock: ManualClock;
  alerts: BufferAlert[];
}

/** Builds buffers on one storage; calling `open` again after stopping the previous one is a restart. */
export interface BufferFixture {
  /** `options` replaces the setup's options for this buffer (a restart with a changed config). */
  open(options?: BufferConfig): Promise<TestBuffer>;
  cleanup(): Promise<void>;
}

export type BufferFactory = (setup: BufferSetup) => Promise<BufferFixture>;

export function manualClock(start = Date.UTC(2026, 0, 1)): ManualClock {
  let now = start;
  return { now: () => now, advance: (ms) => (now += ms) };
}

export function sample(sensorId: string, ts: number, value = 21.5): Sample {
  return { sensorId, ts, values: { temperature: { value, unit: '°C' } } };
}

/** The same behaviour, whatever the storage: every ReadingBuffer implementation runs this suite. */
export function bufferConformance(name: string, factory: BufferFactory): void {
  describe(`ReadingBuffer conformance: ${name}`, () => {
    const started: TestBuffer[] = [];
    const fixtures: BufferFixture[] = [];

    async function setup(config: Partial<BufferConfig> = {}) {
      const clock = manualClock();
      const alerts: BufferAlert[] = [];
      const fixture = await factory({ options: bufferSchema.parse({ commitWindowMs: 2, ...config }), clock, alerts });
      fixtures.push(fixture);
      const open = async (changed?: Partial<BufferConfig>) => {
        const buffer = await fixture.open(changed && bufferSchema.parse({ commitWindowMs: 2, ...config, ...changed }));
        await buffer.start(new AbortController().signal);
        started.push(buffer);
        return buffer;
      };
      return { clock, alerts, open, buffer: await open() };
    }

    afterEach(async () => {
      for (const buffer of started.splice(0)) await buffer.stop();
      for (const fixture of fixtures.splice(0)) await fixture.cleanup();
    });

    it('assigns per-sensor seqs from 1, in call order, to appends sharing one group commit', async () => {
      const { buffer, clock } = await setup();
      const readings = await Promise.all([
        buffer.append(sample('a', clock.now())),
        buffer.append(sample('b', clock.now())),
        buffer.append(sample('a', clock.now())),
        buffer.append(sample('a', clock.now())),
        buffer.append(sample('b', clock.now())),
      ]);
      assert.deepEqual(
        readings.map((r) => `${r.sensorId}#${r.seq}`),
        ['a#1', 'b#1', 'a#2', 'a#3', 'b#2'],
      );
      assert.equal(buffer.stats(clock.now()).depth, 5);
    });

    it('rejects a sample it could not send faithfully, naming the field', async () => {
      const { buffer, clock } = await setup();
      await assert.rejects(buffer.append({ sensorId: 'a', ts: clock.now(), values: { t: { value: Number.NaN, unit: 'C' } } }), {
        name: 'RangeError',
        message: /"sample\.values\.t\.value": expected a finite number, got NaN/,
      });
      await assert.rejects(buffer.accept({ sensorId: '', ts: clock.now(), values: {} }), { message: /"sample\.sensorId"/ });
      await assert.rejects(buffer.append({ sensorId: 'a', ts: Number.POSITIVE_INFINITY, values: {} }), { message: /"sample\.ts"/ });
      assert.equal(buffer.stats(clock.now()).depth, 0);
      assert.equal((await buffer.append(sample('a', clock.now()))).seq, 1, 'a refused sample uses no seq');
    });

    it('leases oldest first, keeps each sensor in seq order and does not lease a row twice', async () => {
      const { buffer, clock } = await setup();
      for (let i = 0; i < 6; i++) {
        await buffer.append(sample(i % 2 === 0 ? 'a' : 'b', clock.now() + i, i));
      }
      const first = buffer.lease({ max: 4 });
      const second = buffer.lease({ max: 4 });
      assert.deepEqual(
        [...first, ...second].map((r) => r.values.temperature?.value),
        [0, 1, 2, 3, 4, 5],
      );
      assert.deepEqual(
        first.map((r) => `${r.sensorId}#${r.seq}`),
        ['a#1', 'b#1', 'a#2', 'b#2'],
      );
      assert.equal(second.length, 2);
      assert.deepEqual(buffer.lease({ max: 10 }), []);
      assert.equal(buffer.stats(clock.now()).inFlight, 6);
    });

    it('gives each leased reading its wire JSON, identical to its documented wire form', async () => {
      const { buffer, clock } = await setup();
      await buffer.append({ sensorId: 'ü-1', ts: clock.now(), values: { humidity: { value: 40.25, unit: '%' }, t: { value: -3, unit: '°C' } } });
      const [leased] = buffer.lease({ max: 1 });
      assert.ok(leased);
      assert.equal(leased.wire, JSON.stringify(expectedWire(leased)));
      assert.deepEqual(JSON.parse(leased.wire ?? ''), {
        sensor: 'ü-1',
        seq: 1,
        ts: new Date(clock.now()).toISOString(),
        values: { humidity: { value: 40.25, unit: '%' }, t: { value: -3, unit: '°C' } },
      });
    });

    it('stops a lease before maxBytes but always takes at least one reading', async () => {
      const { buffer, clock } = await setup();
      for (let i = 0; i < 5; i++) await buffer.append(sample('a', clock.now()));
      const one = buffer.lease({ max: 10, maxBytes: 1 });
      assert.equal(one.length, 1);
      const size = Buffer.byteLength(one[0]?.wire ?? '');
      const two = buffer.lease({ max: 10, maxBytes: size * 2 + 1 });
      assert.deepEqual(
        two.map((r) => r.seq),
        [2, 3],
      );
    });

    it('deletes acknowledged readings and leases nacked ones again, oldest first', async () => {
      const { buffer, clock, open } = await setup();
      for (let i = 0; i < 4; i++) await buffer.append(sample('a', clock.now()));
      const leased = buffer.lease({ max: 4 });
      buffer.ack(ids(leased.slice(0, 1)));
      buffer.nack(ids(leased.slice(1, 3)));
      assert.deepEqual(
        buffer.lease({ max: 10 }).map((r) => r.seq),
        [2, 3],
      );
      await buffer.flush();
      const stats = buffer.stats(clock.now());
      assert.equal(stats.depth, 3);
      assert.equal(stats.inFlight, 3);
      await buffer.stop();
      const reopened = await open();
      assert.deepEqual(
        reopened.lease({ max: 10 }).map((r) => r.seq),
        [2, 3, 4],
        'acked rows are gone after a restart; leased but unacked rows are sent again',
      );
    });

    it('drops refused leased readings with a `refused` record, and ignores ids not leased', async () => {
      const { buffer, clock, open } = await setup();
      for (let i = 0; i < 4; i++) await buffer.append(sample('a', clock.now()));
      await buffer.append(sample('b', clock.now()));
      const leased = buffer.lease({ max: 3 });
      assert.equal(buffer.dropRefused([leased[0]!.id, leased[1]!.id, 4, 999]), 2, 'row 4 is not leased, 999 does not exist');
      buffer.nack(ids(leased));
      const stats = buffer.stats(clock.now());
      assert.equal(stats.depth, 3);
      assert.equal(stats.drops.refused, 2);
      assert.deepEqual(
        buffer.dropRecords(10).map((r) => [r.sensorId, r.reason, r.firstSeq, r.lastSeq, r.count]),
        [['a', 'refused', 1, 2, 2]],
      );
      await buffer.stop();
      const reopened = await open();
      assert.deepEqual(
        reopened.lease({ max: 10 }).map((r) => [r.sensorId, r.seq]),
        [
          ['a', 3],
          ['a', 4],
          ['b', 1],
        ],
        'refused rows stay gone after a restart',
      );
      assert.equal(reopened.dropRecords(10)[0]?.reason, 'refused');
    });

    it('ignores acks and nacks of ids it never leased', async () => {
      const { buffer, clock } = await setup();
      await buffer.append(sample('a', clock.now()));
      buffer.ack([1, 999]);
      buffer.nack([5]);
      await buffer.flush();
      assert.equal(buffer.stats(clock.now()).depth, 1);
      assert.equal(buffer.lease({ max: 5 }).length, 1);
    });

    it('leases newest first with live-first, each lease in ascending order', async () => {
      const { buffer, clock } = await setup();
      for (let i = 0; i < 7; i++) await buffer.append(sample('a', clock.now()));
      assert.deepEqual(
        buffer.lease({ max: 3, order: 'live-first' }).map((r) => r.seq),
        [5, 6, 7],
      );
      await buffer.append(sample('a', clock.now()));
      assert.deepEqual(
        buffer.lease({ max: 3, order: 'live-first' }).map((r) => r.seq),
        [3, 4, 8],
      );
      assert.deepEqual(
        buffer.lease({ max: 3 }).map((r) => r.seq),
        [1, 2],
      );
    });

    it('keeps seqs increasing across restarts, even when every row was acknowledged', async () => {
      const { buffer, clock, open } = await setup();
      for (let i = 0; i < 3; i++) await buffer.append(sample('a', clock.now()));
      await buffer.append(sample('b', clock.now()));
      buffer.ack(ids(buffer.lease({ max: 10 })));
      await buffer.stop();
      const reopened = await open();
      assert.equal(reopened.stats(clock.now()).depth, 0);
      assert.equal((await reopened.append(sample('a', clock.now()))).seq, 4);
      assert.equal((await reopened.append(sample('b', clock.now()))).seq, 2);
      assert.equal((await reopened.append(sample('c', clock.now()))).seq, 1);
    });

    it('drop-oldest evicts the oldest readings, counts them and records the seq range', async () => {
      const { buffer, clock, alerts } = await setup({ maxRows: 5, fullPolicy: 'drop-oldest' });
      for (let i = 0; i < 8; i++) await buffer.append(sample('a', clock.now()));
      const stats = buffer.stats(clock.now());
      assert.equal(stats.depth, 5);
      assert.equal(stats.drops.capacity, 3);
      assert.deepEqual(
        buffer.lease({ max: 10 }).map((r) => r.seq),
        [4, 5, 6, 7, 8],
      );
      const records = buffer.dropRecords(10);
      assert.deepEqual(
        records.map(({ sensorId, reason, count, firstSeq, lastSeq }) => ({ sensorId, reason, count, firstSeq, lastSeq })),
        [{ sensorId: 'a', reason: 'capacity', count: 3, firstSeq: 1, lastSeq: 3 }],
      );
      assert.equal(alerts.filter((a) => a.kind === 'capacity').length, 1, 'one alert per episode, not per drop');
    });

    it('drop-oldest never evicts readings in flight', async () => {
      const { buffer, clock } = await setup({ maxRows: 3, fullPolicy: 'drop-oldest' });
      for (let i = 0; i < 3; i++) await buffer.append(sample('a', clock.now()));
      const inFlight = buffer.lease({ max: 1 });
      await buffer.append(sample('a', clock.now()));
      await buffer.append(sample('a', clock.now()));
      buffer.ack(ids(inFlight));
      await buffer.flush();
      assert.deepEqual(
        buffer.lease({ max: 10 }).map((r) => r.seq),
        [4, 5],
      );
      assert.deepEqual(
        buffer.dropRecords(10).map((r) => [r.firstSeq, r.lastSeq, r.count]),
        [[2, 3, 2]],
      );
    });

    it('gets back under a lowered maxRows over a few commits, without refusing new readings', async () => {
      const { buffer, clock, open } = await setup({ maxRows: 20_000 });
      await Promise.all(Array.from({ length: 12_000 }, (_, i) => buffer.append(sample('a', clock.now(), i))));
      await buffer.stop();
      const shrunk = await open({ maxRows: 100 });
      let appended = 12_000;
      for (let i = 0; i < 5 && shrunk.stats(clock.now()).depth > 100; i++) {
        assert.equal((await shrunk.append(sample('a', clock.now()))).seq, ++appended);
      }
      const stats = shrunk.stats(clock.now());
      assert.equal(stats.depth, 100);
      assert.equal(stats.drops.capacity, appended - 100);
      assert.equal(shrunk.lease({ max: 1_000 }).at(-1)?.seq, appended);
      assert.deepEqual(
        shrunk.dropRecords(10).map((r) => [r.firstSeq, r.lastSeq, r.count]),
        [[1, appended - 100, appended - 100]],
      );
    });

    it('drop-newest refuses new readings when full: append rejects, accept resolves, both counted', async () => {
      const { buffer, clock } = await setup({ maxRows: 3, fullPolicy: 'drop-newest' });
      for (let i = 0; i < 3; i++) await buffer.append(sample('a', clock.now()));
      await assert.rejects(buffer.append(sample('a', clock.now())), (error: unknown) => {
        assert.ok(error instanceof ReadingDroppedError);
        assert.equal(error.reason, 'capacity');
        assert.equal(error.seq, 4);
        return true;
      });
      await buffer.accept(sample('a', clock.now()));
      const stats = buffer.stats(clock.now());
      assert.equal(stats.depth, 3);
      assert.equal(stats.drops.capacity, 2);
      assert.deepEqual(
        buffer.dropRecords(10).map((r) => [r.reason, r.firstSeq, r.lastSeq, r.count]),
        [['capacity', 4, 5, 2]],
      );
      buffer.ack(ids(buffer.lease({ max: 1 })));
      await buffer.flush();
      assert.equal((await buffer.append(sample('a', clock.now()))).seq, 6, 'room again after an ack; the dropped seqs stay used');
    });

    it('applies maxBytes as capacity as well as maxRows', async () => {
      const { buffer, clock } = await setup({ maxBytes: 1024, fullPolicy: 'drop-oldest' });
      for (let i = 0; i < 40; i++) await buffer.append(sample('a', clock.now()));
      const stats = buffer.stats(clock.now());
      assert.ok(stats.bytes <= 1024, `bytes ${stats.bytes} within 1024`);
      assert.ok(stats.depth > 0 && stats.depth < 40);
      assert.equal(stats.drops.capacity, 40 - stats.depth);
      const leased = buffer.lease({ max: 100 });
      assert.equal(
        leased.reduce((sum, r) => sum + Buffer.byteLength(r.wire ?? ''), 0),
        stats.bytes,
        'bytes is the sum of the wire JSON sizes',
      );
      assert.equal(leased.at(-1)?.seq, 40);
    });

    it('merges consecutive drops into one record, but never into one the uplink already fetched', async () => {
      const { buffer, clock } = await setup({ maxRows: 2, fullPolicy: 'drop-newest' });
      for (let i = 0; i < 2; i++) await buffer.append(sample('a', clock.now()));
      for (let i = 0; i < 2; i++) await buffer.accept(sample('a', clock.now()));
      const fetched = buffer.dropRecords(10);
      assert.deepEqual(
        fetched.map((r) => [r.firstSeq, r.lastSeq]),
        [[3, 4]],
      );
      await buffer.accept(sample('a', clock.now()));
      await buffer.accept(sample('b', clock.now()));
      assert.deepEqual(
        buffer.dropRecords(10).map((r) => [r.sensorId, r.firstSeq, r.lastSeq]),
        [
          ['a', 3, 4],
          ['a', 5, 5],
          ['b', 1, 1],
        ],
      );
      buffer.ackDropRecords(ids(fetched));
      assert.deepEqual(
        buffer.dropRecords(10).map((r) => [r.sensorId, r.firstSeq]),
        [
          ['a', 5],
          ['b', 1],
        ],
      );
      assert.equal(buffer.stats(clock.now()).pendingDropRecords, 2);
    });

    it('keeps drop records across a restart until they are acknowledged', async () => {
      const { buffer, clock, open } = await setup({ maxRows: 1, fullPolicy: 'drop-oldest' });
      for (let i = 0; i < 3; i++) await buffer.append(sample('a', clock.now()));
      await buffer.stop();
      const reopened = await open();
      const records = reopened.dropRecords(10);
      assert.deepEqual(
        records.map((r) => [r.reason, r.firstSeq, r.lastSeq, r.count]),
        [['capacity', 1, 2, 2]],
      );
      assert.equal(reopened.stats(clock.now()).pendingDropRecords, 1);
      reopened.ackDropRecords(ids(records));
      assert.deepEqual(reopened.dropRecords(10), []);
    });

    it('prunes readings older than the TTL, except those in flight, and records why', async () => {
      const { buffer, clock } = await setup({ ttlHours: 1 });
      for (let i = 0; i < 3; i++) await buffer.append(sample('a', clock.now()));
      const inFlight = buffer.lease({ max: 1 });
      clock.advance(30 * 60_000);
      await buffer.append(sample('a', clock.now()));
      assert.equal(buffer.prune(clock.now()), 0, 'nothing is older than an hour yet');
      clock.advance(31 * 60_000);
      assert.equal(buffer.prune(clock.now()), 2);
      const stats = buffer.stats(clock.now());
      assert.equal(stats.drops.ttl, 2);
      assert.equal(stats.depth, 2);
      assert.deepEqual(
        buffer.dropRecords(10).map((r) => [r.reason, r.firstSeq, r.lastSeq]),
        [['ttl', 2, 3]],
      );
      buffer.nack(ids(inFlight));
      assert.deepEqual(
        buffer.lease({ max: 10 }).map((r) => r.seq),
        [1, 4],
      );
    });

    it('does not prune without a TTL', async () => {
      const { buffer, clock } = await setup();
      await buffer.append(sample('a', clock.now()));
      clock.advance(365 * 24 * 3_600_000);
      assert.equal(buffer.prune(clock.now()), 0);
      assert.equal(buffer.stats(clock.now()).depth, 1);
    });

    it('reports depth, bytes and the oldest unsent age', async () => {
      const { buffer, clock } = await setup();
      assert.deepEqual(buffer.stats(clock.now()), {
        depth: 0,
        bytes: 0,
        inFlight: 0,
        oldestUnsentAgeMs: null,
        drops: { capacity: 0, ttl: 0, 'io-error': 0, refused: 0 },
        pendingDropRecords: 0,
      });
      await buffer.append(sample('a', clock.now()));
      clock.advance(5_000);
      await buffer.append(sample('a', clock.now()));
      clock.advance(1_000);
      const stats = buffer.stats(clock.now());
      assert.equal(stats.depth, 2);
      assert.equal(stats.oldestUnsentAgeMs, 6_000);
      buffer.ack(ids(buffer.lease({ max: 1 })));
      await buffer.flush();
      assert.equal(buffer.stats(clock.now()).oldestUnsentAgeMs, 1_000);
    });

    it('commits pending appends when stopped', async () => {
      const { buffer, clock, open } = await setup({ commitWindowMs: 10 });
      const appended = Promise.all([buffer.append(sample('a', clock.now())), buffer.append(sample('a', clock.now()))]);
      await buffer.stop();
      assert.deepEqual(
        (await appended).map((r) => r.seq),
        [1, 2],
      );
      const reopened = await open();
      assert.deepEqual(
        reopened.lease({ max: 10 }).map((r) => r.seq),
        [1, 2],
      );
    });

    it('prunes on its own when a TTL is set', async () => {
      const { buffer, clock } = await setup({ ttlHours: 0.001 });
      await buffer.append(sample('a', clock.now()));
      clock.advance(10_000);
      const deadline = Date.now() + 20_000;
      while (buffer.stats(clock.now()).drops.ttl === 0) {
        assert.ok(Date.now() < deadline, 'the prune timer did not run within 20 s');
        await new Promise((resolve) => setTimeout(resolve, 50));
      }
      assert.equal(buffer.stats(clock.now()).depth, 0);
    });

    it('refuses appends once stopped', async () => {
      const { buffer, clock } = await setup();
      await buffer.stop();
      await assert.rejects(buffer.append(sample('a', clock.now())), /not running/);
      assert.deepEqual(buffer.lease({ max: 1 }), []);
    });
  });
}

export function ids(readings: ReadonlyArray<LeasedReading | { id: number }>): number[] {
  return readings.map((r) => r.id);
}
