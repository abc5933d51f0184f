import assert from 'node:assert/strict';
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { test } from 'node:test';
import { CRASH_LOOP, isCrash, isKioskBlockedKey, planRecovery, stepsToSurface, windowChrome, type KeyInput } from '../../../main/electron/kiosk.js';

const key = (k: string, modifiers: Partial<KeyInput> = {}): KeyInput => ({ type: 'keyDown', key: k, control: false, shift: false, alt: false, meta: false, ...modifiers });

test('a kiosk window fills the screen with no frame, menu or developer tools; a desktop window has them', () => {
  assert.deepEqual(windowChrome(true), { kiosk: true, fullscreen: true, frame: false, autoHideMenuBar: true, devTools: false });
  const desktop = windowChrome(false);
  assert.equal(desktop.kiosk, false);
  assert.equal(desktop.devTools, true);
  assert.equal(desktop.frame, true);
});

test('a kiosk swallows the developer tools, view source, close, quit and print keys, and nothing a form needs', () => {
  for (const blocked of [key('F12'), key('I', { control: true, shift: true }), key('j', { meta: true, shift: true }), key('c', { control: true, shift: true }), key('u', { control: true }), key('w', { control: true }), key('q', { control: true }), key('p', { control: true }), key('F4', { alt: true })]) {
    assert.equal(isKioskBlockedKey(blocked), true, JSON.stringify(blocked));
  }
  for (const allowed of [key('a'), key('C', { shift: true }), key('c', { control: true }), key('v', { control: true }), key('Tab'), key('Enter'), key('Backspace'), key('F5')]) {
    assert.equal(isKioskBlockedKey(allowed), false, JSON.stringify(allowed));
  }
  assert.equal(isKioskBlockedKey({ ...key('F12'), type: 'keyUp' }), false);
});

test('a crash reloads at once; a crash loop backs off, doubling and capped; old crashes are forgotten', () => {
  let recent: number[] = [];
  const delays: number[] = [];
  for (let i = 0; i < CRASH_LOOP.crashes + 8; i += 1) {
    const plan = planRecovery(recent, 1_000_000 + i * 100);
    recent = plan.recent;
    delays.push(plan.delayMs);
  }
  assert.deepEqual(delays.slice(0, CRASH_LOOP.crashes - 1), [0, 0, 0, 0]);
  assert.deepEqual(delays.slice(CRASH_LOOP.crashes - 1, CRASH_LOOP.crashes + 3), [1000, 2000, 4000, 8000]);
  assert.equal(delays.at(-1), CRASH_LOOP.maxDelayMs);
  // A crash long after the loop starts afresh.
  const later = planRecovery(recent, 1_000_000 + CRASH_LOOP.windowMs * 3);
  assert.deepEqual(later, { delayMs: 0, recent: [1_000_000 + CRASH_LOOP.windowMs * 3] });
});

test('only a renderer that did not exit cleanly counts as a crash', () => {
  assert.equal(isCrash('clean-exit'), false);
  for (const reason of ['crashed', 'killed', 'oom', 'abnormal-exit', 'launch-failed', 'integrity-failure']) assert.equal(isCrash(reason), true);
});

test('a second launch brings the first window forward: restored if minimized, shown if hidden, then focused', () => {
  assert.deepEqual(stepsToSurface({ minimized: true, visible: true }), ['restore', 'focus']);
  assert.deepEqual(stepsToSurface({ minimized: false, visible: false }), ['show', 'focus']);
  assert.deepEqual(stepsToSurface({ minimized: false, visible: true }), ['focus']);
  assert.deepEqual(stepsToSurface(undefined), []);
});

test('the Electron code never calls shell.openExternal: links leave the window only by the user typing them elsewhere', () => {
  const dir = fileURLToPath(new URL('../../../../main/electron/', import.meta.url));
  const sources = readdirSync(dir).filter((file) => file.endsWith('.ts'));
  assert.ok(sources.includes('main.ts'));
  for (const file of sources) assert.doesNotMatch(readFileSync(join(dir, file), 'utf8'), /openExternal/, file);
});
