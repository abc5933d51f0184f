import assert from 'node:assert/strict';
import { after, afterEach, before } from 'node:test';
import { execFileSync } from 'node:child_process';
import { createPublicKey } from 'node:crypto';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { validateConfig } from '../../../main/config/validate.js';
import type { Config, ConfigInput } from '../../../main/shared/config/schema.js';
import { connectAsync } from 'mqtt';
import { CliProcess, runCli } from '../../helpers/cli.js';
import { startMosquitto, type Mosquitto } from '../../helpers/mosquitto.js';
import { createPki, type Pki, type ValidityOptions } from '../../helpers/pki.js';
import { createSoftHsm, SOFTHSM_MODULE, type SoftHsm } from '../../helpers/softhsm.js';

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

// ---------------------------------------------------------------- a device key in a SoftHSM2 token (identity.keyStore pkcs11)

export const PREFIX = 'fieldgate';

export interface TokenWorkspaceOptions {
  hsm: SoftHsm;
  broker: Mosquitto;
  /** The CA that signed the broker's certificate (cloud.caFile). */
  brokerCaFile: string;
  /** CA bundle an issued certificate must chain to (identity.caFile); default the broker's CA. */
  caFile?: string;
  identity?: Partial<ConfigInput['identity']>;
  pkcs11?: Record<string, unknown>;
  gatewayId?: string;
}

/** A gateway whose on-box identity keeps its key in the SoftHSM token, with one simulated sensor, connecting to the broker. */
export function tokenWorkspace(options: TokenWorkspaceOptions): Workspace {
  return workspace(({ root }) => ({
    caFile: options.caFile ?? options.brokerCaFile,
    ...(options.gatewayId && { gateway: { id: options.gatewayId, dataDir: join(root, 'data') } }),
    cloud: { url: options.broker.url, caFile: options.brokerCaFile, topicPrefix: PREFIX, connectTimeoutMs: 5_000, backoff: { initialMs: 200, maxMs: 2_000, stableMs: 5_000 } },
    sensors: { sim: [{ id: 's1', rate: 20 }] },
    identity: {
      ...options.identity,
      keyStore: 'pkcs11',
      pkcs11: { module: SOFTHSM_MODULE, tokenLabel: options.hsm.label, pinFile: options.hsm.pinFile, ...options.pkcs11 },
    },
  }));
}

/** `identity csr` in the token, signed by `pki`, then `identity import`: as the README's provisioning steps. */
export async function provisionInToken(ws: Workspace, hsm: SoftHsm, pki: Pki, validity: ValidityOptions = { days: 365 }): Promise<{ csrPem: string; keyId: string }> {
  const csr = await runCli(['identity', 'csr', '--config', ws.configFile], hsm.env);
  assert.equal(csr.code, 0, csr.stderr);
  const certFile = join(ws.root, 'signed.pem');
  writeFileSync(certFile, await pki.signCsr(csr.stdout, validity));
  const imported = await runCli(['identity', 'import', '--config', ws.configFile, certFile], hsm.env);
  assert.equal(imported.code, 0, imported.stderr);
  return { csrPem: csr.stdout, keyId: tokenKeyId(ws) };
}

/** The CKA_ID of the current device key, from the reference file the identity folder keeps. */
export function tokenKeyId(ws: Workspace): string {
  return (JSON.parse(readFileSync(join(ws.identityDir, 'key.pkcs11.json'), 'utf8')) as { idHex: string }).idHex;
}

/** The IDs of the private keys pkcs11-tool lists in the token. */
export function privateKeyIds(objects: string): string[] {
  return objects
    .split(/\n(?=\S)/)
    .filter((block) => block.startsWith('Private Key Object'))
    .map((block) => /ID:\s+([0-9a-f]+)/.exec(block)?.[1] ?? '?');
}

/** Mosquitto with the README's ACL, two CAs, a cloud-side client that records every message and answers CSRs, and per-test tokens and gateways. */
export interface TokenRig {
  pki: Pki;
  otherPki: Pki;
  broker: Mosquitto;
  /** Every JSON message the cloud side received under the prefix. */
  received: { topic: string; body: Record<string, unknown> }[];
  /** How the cloud answers the next `cert/csr`. */
  answer: (request: { requestId: string; csr: string }) => Promise<object>;
  token(): Promise<SoftHsm>;
  /** A workspace removed after the test. */
  track(ws: Workspace): Workspace;
  /** `fieldgate run` with the token's environment, stopped after the test. */
  runGateway(ws: Workspace, hsm: SoftHsm): CliProcess;
  /** Retained `online` statuses of GATEWAY_ID seen so far. */
  onlineCount(): number;
  afterEach(): Promise<void>;
  cleanup(): Promise<void>;
}

export async function startTokenRig(): Promise<TokenRig> {
  const pki = await createPki();
  const otherPki = await createPki();
  const broker = await startMosquitto({ pki, prefix: PREFIX });
  const reader = await pki.issueClientCert({ cn: broker.readerCn });
  const cloud = await connectAsync(broker.url, { ca: pki.ca.certPem, cert: reader.certPem, key: reader.keyPem, protocolVersion: 5, reconnectPeriod: 0 });
  await cloud.subscribeAsync(`${PREFIX}/#`, { qos: 1 });
  const cleanups: (() => Promise<void> | void)[] = [];
  const rig: TokenRig = {
    pki,
    otherPki,
    broker,
    received: [],
    answer: async () => ({}),
    async token() {
      const hsm = await createSoftHsm({ label: 'fg-test' });
      cleanups.push(() => hsm.cleanup());
      return hsm;
    },
    track(ws) {
      cleanups.push(() => ws.cleanup());
      return ws;
    },
    runGateway(ws, hsm) {
      const gateway = new CliProcess(['run', '--config', ws.configFile], hsm.env);
      cleanups.push(async () => {
        gateway.child.kill('SIGTERM');
        await gateway.exit();
      });
      return gateway;
    },
    onlineCount: () => rig.received.filter((m) => m.topic === `${PREFIX}/${GATEWAY_ID}/status` && m.body.online === true).length,
    async afterEach() {
      for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
      rig.received.length = 0;
    },
    async cleanup() {
      await rig.afterEach();
      await cloud.endAsync();
      await broker.cleanup();
      await pki.cleanup();
      await otherPki.cleanup();
    },
  };
  cloud.on('message', (topic, payload) => {
    let body: Record<string, unknown>;
    try {
      body = JSON.parse(payload.toString()) as Record<string, unknown>;
    } catch {
      return;
    }
    rig.received.push({ topic, body });
    if (topic.endsWith('/cert/csr')) {
      const request = body as { requestId: string; csr: string; gatewayId: string };
      void rig.answer(request).then((reply) => cloud.publishAsync(`${PREFIX}/${request.gatewayId}/cert/issued`, JSON.stringify(reply), { qos: 1 }));
    }
  });
  return rig;
}

/** One rig for the test file (started before its tests, cleaned after each and at the end); call at the top level. */
export function useTokenRig(): () => TokenRig {
  let rig: TokenRig | undefined;
  before(async () => {
    rig = await startTokenRig();
  });
  afterEach(() => rig?.afterEach());
  after(() => rig?.cleanup());
  return () => {
    if (!rig) throw new Error('the token rig is not started yet');
    return rig;
  };
}
