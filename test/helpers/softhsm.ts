/**
 * A throw-away SoftHSM2 token in its own SOFTHSM2_CONF and token folder, made with the real
 * softhsm2-util; inspected with opensc's pkcs11-tool.
 *
 *   const hsm = await createSoftHsm({ label: 'fg', pin: '1234' });
 *   hsm.env            // { SOFTHSM2_CONF } for the process that uses the token
 *   hsm.pinFile        // 0600, the PIN without a newline
 *   hsm.objects()      // pkcs11-tool -O output, logged in
 *   await hsm.cleanup();
 */
import { execFile } from 'node:child_process';
import { chmod, mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';

const run = promisify(execFile);

export const SOFTHSM_MODULE = '/usr/lib/softhsm/libsofthsm2.so';

export interface SoftHsm {
  dir: string;
  label: string;
  pin: string;
  pinFile: string;
  env: { SOFTHSM2_CONF: string };
  /** `pkcs11-tool --list-objects` after logging in: every object with its label, ID and access flags. */
  objects(): Promise<string>;
  cleanup(): Promise<void>;
}

export async function createSoftHsm(options: { label?: string; pin?: string } = {}): Promise<SoftHsm> {
  const label = options.label ?? 'fieldgate-test';
  const pin = options.pin ?? '246810';
  const dir = await mkdtemp(join(tmpdir(), 'fieldgate-softhsm-'));
  await mkdir(join(dir, 'tokens'), { mode: 0o700 });
  const conf = join(dir, 'softhsm2.conf');
  await writeFile(conf, `directories.tokendir = ${join(dir, 'tokens')}\nobjectstore.backend = file\nlog.level = ERROR\n`);
  const env = { SOFTHSM2_CONF: conf };
  await run('softhsm2-util', ['--init-token', '--free', '--label', label, '--pin', pin, '--so-pin', `${pin}0`], { env: { ...process.env, ...env } });
  const pinFile = join(dir, 'pin');
  await writeFile(pinFile, pin, { mode: 0o600 });
  await chmod(pinFile, 0o600);
  return {
    dir,
    label,
    pin,
    pinFile,
    env,
    objects: async () =>
      (await run('pkcs11-tool', ['--module', SOFTHSM_MODULE, '--token-label', label, '--login', '--pin', pin, '--list-objects'], { env: { ...process.env, ...env } })).stdout,
    cleanup: () => rm(dir, { recursive: true, force: true }),
  };
}
