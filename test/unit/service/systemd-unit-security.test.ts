import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { test } from 'node:test';

const UNIT = fileURLToPath(new URL('../../../../native-config/fieldgate.service', import.meta.url));
const ANALYZE = '/usr/bin/systemd-analyze';

test('systemd-analyze security rates the shipped unit at 2.0 or better', { skip: existsSync(ANALYZE) ? false : `${ANALYZE} is not installed` }, () => {
  const result = spawnSync(ANALYZE, ['security', '--offline=yes', '--no-pager', UNIT], { encoding: 'utf8', timeout: 60_000 });
  const match = /Overall exposure level for fieldgate\.service: (\d+\.\d)/.exec(result.stdout);
  assert.ok(match, `no overall exposure level in:\n${result.stdout}\n${result.stderr}`);
  assert.ok(Number(match[1]) <= 2.0, `exposure ${match[1]} > 2.0:\n${result.stdout.split('\n').filter((line) => line.startsWith('✗')).join('\n')}`);
});

test('the unit keeps V8 working: no MemoryDenyWriteExecute', () => {
  assert.doesNotMatch(readFileSync(UNIT, 'utf8'), /^MemoryDenyWriteExecute=/m);
});

test('only the main process may notify systemd: the gateway sends sd_notify itself', () => {
  assert.match(readFileSync(UNIT, 'utf8'), /^NotifyAccess=main$/m);
});
