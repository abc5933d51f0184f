import { execFileSync } from 'node:child_process';
import { createPublicKey } from 'node:crypto';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { validateConfig } from '../../../main/config/validate.js';
import type { Config, ConfigInput } from '../../../main/shared/config/schema.js';

export const GATEWAY_ID = 'gw-1';

export interface Workspace {
  root: string;
  dataDir: string;
  identityDir: string;
  configFile: string;
  config: Config;
  cleanup(): void;
}

type WorkspaceConfig = Partial<ConfigInput> & { caFile: string };

/** A temp folder with a config file whose identity lives in `<root>/data/identity`. */
export function workspace(build: WorkspaceConfig | ((dirs: { root: string; identityDir: string }) => WorkspaceConfig)): Workspace {
  const root = mkdtempSync(join(tmpdir(), 'fieldgate-identity-'));
  const dataDir = join(root, 'data');
  const identityDir = join(dataDir, 'identity');
  const extra = typeof build === 'function' ? build({ root, identityDir }) : build;
  const { caFile, ...rest } = extra;
  const input = {
    gateway: { id: GATEWAY_ID, dataDir },
    ui: { enabled: false },
    ...rest,
    identity: { caFile, ...(rest.identity ?? {}) },
  };
  const configFile = join(root, 'fieldgate.yaml');
  writeFileSync(configFile, JSON.stringify(input, null, 2));
  return { root, dataDir, identityDir, configFile, config: validateConfig(input), cleanup: () => rmSync(root, { recursive: true, force: true }) };
}

/** Installs an identity made elsewhere (e.g. by the test CA) the way the store keeps it. */
export function installIdentity(identityDir: string, keyPem: string, certPem: string): void {
  mkdirSync(identityDir, { recursive: true, mode: 0o700 });
  writeFileSync(join(identityDir, 'key.pem'), keyPem, { mode: 0o600 });
  writeFileSync(join(identityDir, 'cert.pem'), certPem, { mode: 0o600 });
}

export function publicKeyOf(pem: string): string {
  return createPublicKey(pem).export({ type: 'spki', format: 'pem' }).toString();
}

/** A CSR for an existing key with any subject, made with the openssl CLI. */
export function opensslCsr(keyFile: string, subject: string): string {
  return execFileSync('openssl', ['req', '-new', '-key', keyFile, '-subj', subject], { encoding: 'utf8' });
}

export function opensslText(args: string[], input: string): string {
  return execFileSync('openssl', args, { input, encoding: 'utf8', stdio: ['pipe', 'pipe', 'pipe'] });
}

export function serialOf(certFile: string): string {
  return execFileSync('openssl', ['x509', '-in', certFile, '-noout', '-serial'], { encoding: 'utf8' }).trim().replace(/^serial=/, '').toLowerCase();
}

export function read(path: string): string {
  return readFileSync(path, 'utf8');
}

export async function waitFor(condition: () => boolean | Promise<boolean>, what: string, timeoutMs = 30_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if (await condition()) return;
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
  throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
}
