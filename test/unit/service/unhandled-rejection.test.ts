import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { test } from 'node:test';

const RUN_MODULE = new URL('../../../main/service/run.js', import.meta.url).href;
const LOGGER_MODULE = new URL('../../../main/log/logger.js', import.meta.url).href;

test('an unhandled rejection is logged as an error and the process runs on', () => {
  const script = `
    const { logUnhandledRejections } = await import(${JSON.stringify(RUN_MODULE)});
    const { createLogger } = await import(${JSON.stringify(LOGGER_MODULE)});
    logUnhandledRejections(createLogger({ level: 'info' }));
    Promise.reject(new Error('ENOSPC: no space left on device, write'));
    setTimeout(() => { console.log('still running'); }, 50);
  `;
  const child = spawnSync(process.execPath, ['--input-type=module', '-e', script], { encoding: 'utf8', timeout: 30_000 });
  assert.equal(child.status, 0, child.stderr);
  const lines = child.stdout.trim().split('\n');
  assert.equal(lines.at(-1), 'still running');
  const logged = JSON.parse(lines.find((line) => line.includes('unhandled promise rejection')) ?? '{}') as { level?: string; msg?: string; err?: { message?: string } };
  assert.equal(logged.level, 'error');
  assert.equal(logged.err?.message, 'ENOSPC: no space left on device, write');
});
