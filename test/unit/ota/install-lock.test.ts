// The install lock with real contending processes: a lock left by a SIGKILLed owner is taken over
// by exactly one of two processes that race for it, never by both.
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { acquireInstallLock, OtaLayout } from '../../../main/ota/state.js';
import { OtaError } from '../../../main/ota/reasons.js';

const STATE_MODULE = new URL('../../../main/ota/state.js', import.meta.url).href;
const ROUNDS = 5;

const root = mkdtempSync(join(tmpdir(), 'fieldgate-ota-lock-'));
after(() => rmSync(root, { recursive: true, force: true }));

/** Waits for the start file, takes the lock, says so, holds it `holdMs`, releases. */
const CONTENDER = `
  const { existsSync } = await import('node:fs');
  const { acquireInstallLock, OtaLayout } = await import(${JSON.stringify(STATE_MODULE)});
  const { FG_ROOT: root, FG_GO: go, FG_HOLD_MS: hold } = process.env;
  while (go && !existsSync(go)) await new Promise((resolve) => setTimeout(resolve, 1));
  try {
    const release = await acquireInstallLock(new OtaLayout(root));
    console.log('acquired');
    await new Promise((resolve) => setTimeout(resolve, Number(hold)));
    await release();
  } catch (error) {
    console.log(error.code ?? error.message);
  }
`;

function contender(env: Record<string, string>): { done: Promise<string>; kill(): void; started: Promise<void> } {
  const child = spawn(process.execPath, ['--input-type=module', '-e', CONTENDER], { env: { ...process.env, ...env }, stdio: ['ignore', 'pipe', 'inherit'] });
  let out = '';
  let markStarted: () => void = () => undefined;
  const started = new Promise<void>((resolve) => (markStarted = resolve));
  child.stdout.on('data', (chunk: Buffer) => {
    out += chunk.toString();
    if (out.includes('acquired')) markStarted();
  });
  const done = new Promise<string>((resolve) => child.on('exit', () => resolve(out.trim())));
  return { done, started, kill: () => child.kill('SIGKILL') };
}

describe('OTA install lock', () => {
  it(`a stale lock (owner SIGKILLed) is taken over by exactly one of two racing processes, ${ROUNDS} rounds`, async () => {
    const lockRoot = join(root, 'race');
    for (let round = 0; round < ROUNDS; round += 1) {
      const owner = contender({ FG_ROOT: lockRoot, FG_HOLD_MS: '600000' });
      await owner.started;
      owner.kill();
      await owner.done;
      const go = join(root, `go-${round}`);
      // Both judge the lock stale, then wait, so that both take it over at the same moment.
      const racers = [0, 1].map(() =>
        contender({ FG_ROOT: lockRoot, FG_GO: go, FG_HOLD_MS: '500', FIELDGATE_OTA_PAUSEPOINT: 'lock-takeover', FIELDGATE_OTA_PAUSE_MS: '300' }),
      );
      await new Promise((resolve) => setTimeout(resolve, 1500)); // both are loaded and polling
      writeFileSync(go, '');
      const outcomes = (await Promise.all(racers.map((racer) => racer.done))).sort();
      assert.deepEqual(outcomes, ['acquired', 'install-in-progress'], `round ${round}`);
    }
  });

  it('is refused while held in this process and free again once released', async () => {
    const layout = new OtaLayout(join(root, 'local'));
    const release = await acquireInstallLock(layout);
    await assert.rejects(acquireInstallLock(layout), (error: unknown) => error instanceof OtaError && error.code === 'install-in-progress');
    await release();
    const again = await acquireInstallLock(layout);
    await again();
  });
});
