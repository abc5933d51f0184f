import assert from 'node:assert/strict';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { ConfigInput } from '../../../main/shared/config/schema.js';
import { runCli } from '../../helpers/cli.js';
import type { Mosquitto } from '../../helpers/mosquitto.js';
import type { Pki, ValidityOptions } from '../../helpers/pki.js';
import { SOFTHSM_MODULE, type SoftHsm } from '../../helpers/softhsm.js';
import { workspace, type Workspace } from './fixtures.js';

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
