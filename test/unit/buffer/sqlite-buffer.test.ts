import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Registry } from 'prom-client';
import { SqliteBuffer } from '../../../main/buffer/sqlite-buffer.js';
import { silentLogger } from '../../../main/log/logger.js';
import { bufferConformance } from './conformance.js';

bufferConformance('SqliteBuffer', async ({ options, clock, alerts }) => {
  const dir = mkdtempSync(join(tmpdir(), 'fieldgate-buffer-'));
  return {
    open: async (changed) =>
      new SqliteBuffer({
        file: join(dir, 'buffer.db'),
        options: changed ?? options,
        clock,
        log: silentLogger,
        metrics: new Registry(),
        onAlert: (alert) => alerts.push(alert),
      }),
    cleanup: async () => rmSync(dir, { recursive: true, force: true }),
  };
});
