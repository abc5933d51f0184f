import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { Writable } from 'node:stream';
import { pino } from 'pino';
import { createMetricsRegistry } from '../../../../main/metrics/registry.js';
import { serialMetrics } from '../../../../main/sensors/serial/metrics.js';
import { printable, RejectLog } from '../../../../main/sensors/serial/rejects.js';

function capturingLogger(): { log: pino.Logger; lines: Record<string, unknown>[] } {
  const lines: Record<string, unknown>[] = [];
  const destination = new Writable({
    write(chunk: Buffer, _encoding, done) {
      lines.push(JSON.parse(chunk.toString()) as Record<string, unknown>);
      done();
    },
  });
  return { log: pino({ level: 'info' }, destination), lines };
}

async function counterValue(registry: ReturnType<typeof createMetricsRegistry>, labels: Record<string, string>): Promise<number> {
  const metric = await registry.getSingleMetric('fieldgate_serial_rejects_total')?.get();
  const match = metric?.values.find((v) => Object.entries(labels).every(([k, value]) => v.labels[k] === value));
  return match?.value ?? 0;
}

describe('RejectLog', () => {
  it('counts every reject by port and reason but logs one sample per reason per interval', async () => {
    const registry = createMetricsRegistry({ processMetrics: false });
    const { log, lines } = capturingLogger();
    let now = 1_000_000;
    const rejects = new RejectLog({ labels: { port: 'p1' }, counter: serialMetrics(registry).rejects, log, clock: { now: () => now } });
    for (let i = 0; i < 50; i++) rejects.reject('bad-json', 'Unexpected token', Buffer.from('{oops'));
    rejects.reject('bad-utf8', 'not UTF-8', Buffer.from([0xff, 0xfe, 0x41]));
    now += 10_000;
    rejects.reject('bad-json', 'again');
    await new Promise((resolve) => setImmediate(resolve));

    assert.equal(await counterValue(registry, { port: 'p1', reason: 'bad-json' }), 51);
    assert.equal(await counterValue(registry, { port: 'p1', reason: 'bad-utf8' }), 1);
    assert.deepEqual(
      lines.map((l) => [l.reason, l.sample, l.suppressedSinceLast]),
      [
        ['bad-json', '{oops', 0],
        ['bad-utf8', '\\xff\\xfeA', 0],
        ['bad-json', undefined, 49],
      ],
    );
  });

  it('escapes binary samples and clips long ones', () => {
    assert.equal(printable(Buffer.from('a\\b\n')), 'a\\x5cb\\x0a');
    assert.equal(printable(Buffer.alloc(100, 0x41)), `${'A'.repeat(64)}… (100 bytes)`);
  });
});
