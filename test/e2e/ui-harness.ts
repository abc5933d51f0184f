// Drives the setup UI in Debian's Chromium against a real gateway process: accessibility checks
// with axe-core and screenshots at the touchscreen and laptop sizes for every screen.
import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { test } from 'node:test';
import { chromium, type Browser, type BrowserContext, type Page } from 'playwright-core';
import { CliProcess } from '../helpers/cli.js';

export const SCREENSHOTS = fileURLToPath(new URL('../../../test-output/screenshots/', import.meta.url));
const AXE = fileURLToPath(new URL('../../../node_modules/axe-core/axe.min.js', import.meta.url));

export const TOUCHSCREEN = { width: 800, height: 480 };
export const LAPTOP = { width: 1280, height: 800 };
export const PHONE = { width: 390, height: 844 };

export function tempDir(t: test.TestContext): string {
  const dir = mkdtempSync(join(tmpdir(), 'fieldgate-ui-'));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  return dir;
}

/** Playwright gives every launch a fresh temporary profile (user-data-dir) of its own. */
export async function launchBrowser(t: test.TestContext): Promise<Browser> {
  const browser = await chromium.launch({
    executablePath: '/usr/bin/chromium',
    args: [
      '--no-sandbox',
      '--disable-gpu',
      '--disable-background-networking',
      '--disable-component-update',
      '--disable-sync',
      '--no-first-run',
    ],
  });
  t.after(() => browser.close());
  return browser;
}

export interface UiPage {
  page: Page;
  context: BrowserContext;
  /** Console errors, CSP violations and uncaught exceptions seen so far. */
  problems: string[];
}

/** A fresh browser context (its own cookies) at the touchscreen size, collecting what goes wrong. */
export async function openUi(browser: Browser, url: string, options: { acceptDownloads?: boolean } = {}): Promise<UiPage> {
  const context = await browser.newContext({ viewport: TOUCHSCREEN, acceptDownloads: options.acceptDownloads ?? false });
  const page = await context.newPage();
  const problems: string[] = [];
  page.on('console', (message) => {
    if (message.type() === 'error' && !/status of (401|403|409|423|429)|Failed to load resource/.test(message.text())) problems.push(message.text());
  });
  page.on('pageerror', (error) => problems.push(`uncaught: ${error.message}`));
  await page.goto(url);
  return { page, context, problems };
}

interface AxeResult {
  violations: { id: string; impact: string | null; help: string; nodes: { target: string[] }[] }[];
}

/** axe-core on the page as it is: no serious or critical violation. */
export async function assertAccessible(page: Page, screen: string): Promise<void> {
  // addScriptTag would be an inline script, which the UI's CSP blocks (as it should): evaluate instead.
  if (!(await page.evaluate("typeof axe === 'object'"))) await page.evaluate(readFileSync(AXE, 'utf8'));
  const result = (await page.evaluate('axe.run(document)')) as AxeResult;
  const bad = result.violations.filter((violation) => violation.impact === 'serious' || violation.impact === 'critical');
  assert.deepEqual(
    bad.map((violation) => `${violation.impact} ${violation.id}: ${violation.help} at ${violation.nodes.map((node) => node.target.join(' ')).join(', ')}`),
    [],
    `accessibility violations on ${screen}`,
  );
}

/** Screenshots at phone, laptop and touchscreen sizes (ending at the touchscreen); axe runs at the laptop and touchscreen sizes. */
export async function captureScreen(page: Page, name: string): Promise<void> {
  mkdirSync(SCREENSHOTS, { recursive: true });
  for (const [label, size] of [
    ['phone', PHONE],
    ['1280x800', LAPTOP],
    ['800x480', TOUCHSCREEN],
  ] as const) {
    await page.setViewportSize(size);
    await page.waitForTimeout(150);
    await page.screenshot({ path: join(SCREENSHOTS, `${name}-${label}.png`) });
    if (size !== PHONE) await assertAccessible(page, `${name} at ${label}`);
  }
}

export interface Gateway {
  process: CliProcess;
  url: string;
  dir: string;
  configFile: string;
  /** The one-time code from the log, while the gateway has no admin. */
  setupCode: string | undefined;
}

/** `fieldgate run` on a YAML config, UI on a free loopback port; resolves once it listens. */
export async function startGateway(t: test.TestContext, yaml: string, env: NodeJS.ProcessEnv = {}): Promise<Gateway> {
  const dir = tempDir(t);
  const configFile = join(dir, 'fieldgate.yaml');
  writeFileSync(configFile, yaml.replaceAll('$DIR', dir));
  const process = new CliProcess(['run', '--config', configFile], env);
  t.after(() => process.kill());
  const listening = JSON.parse(await process.waitForLine('"msg":"setup UI and API listening"')) as { url: string };
  const codeLine = process.lines.find((line) => line.includes('enter the setup code'));
  const setupCode = codeLine ? /setup code (\S+)/.exec(codeLine)?.[1] : undefined;
  return { process, url: listening.url, dir, configFile, setupCode };
}

/** A gateway with one simulated sensor and the UI on a free port. */
export const SIM_GATEWAY = 'gateway: { id: gw-ui-e2e, dataDir: $DIR/data }\nsensors:\n  sim:\n    - { id: kitchen-1, rate: 5 }\nui: { port: 0 }\n';

export const ADMIN = { username: 'admin', password: 'correct horse battery staple' };

/** The first-run flow: setup code, then the administrator's password. */
export async function completeFirstRun(page: Page, code: string, password = ADMIN.password): Promise<void> {
  await page.getByLabel('Setup code').fill(code);
  await page.getByRole('button', { name: 'Next' }).click();
  await page.getByLabel('New password').fill(password);
  await page.getByLabel('Repeat the password').fill(password);
  await page.getByRole('button', { name: 'Create administrator' }).click();
  await page.getByRole('heading', { name: 'Overview' }).waitFor();
}

export async function signIn(page: Page, username: string, password: string): Promise<void> {
  await page.getByLabel('Name').fill(username);
  await page.getByLabel('Password').fill(password);
  await page.getByRole('button', { name: 'Sign in' }).click();
}

export async function goTo(page: Page, screen: string): Promise<void> {
  await page.getByRole('navigation', { name: 'Screens' }).getByRole('link', { name: screen, exact: true }).click();
  await page.locator('#screen h1').first().waitFor();
}
