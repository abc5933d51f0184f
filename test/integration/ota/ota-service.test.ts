// The OTA service as the control API drives it, with real signed bundles and real processes:
// streamed uploads capped at ota.maxBundleBytes, verify with the reason code, install with
// ota-progress events, status and rollback.
import assert from 'node:assert/strict';
import { readdir } from 'node:fs/promises';
import { Readable } from 'node:stream';
import { afterEach, beforeEach, describe, it } from 'node:test';
import { silentLogger } from '../../../main/log/logger.js';
import { EntrypointLauncher } from '../../../main/ota/launcher.js';
import { OtaService, uploadsDirOf } from '../../../main/ota/ota-service.js';
import { ApiError, apiEventSchema, apiMethods, type ApiEvent } from '../../../main/shared/api.js';
import { systemClock } from '../../../main/shared/clock.js';
import { otaSchema } from '../../../main/shared/config/ota.js';
import { ARCH, bundleBytes, MODEL, offsetOf, streamOf } from '../../unit/ota/bundle-factory.js';
import { CLI, OtaBox, SCRIPTS } from './fixture.js';

type Progress = Extract<ApiEvent, { type: 'ota-progress' }>;

let box: OtaBox;
let events: ApiEvent[];

beforeEach(async () => {
  box = await OtaBox.create();
  events = [];
});

afterEach(async () => {
  await box.dispose();
});

function service(config: Record<string, unknown> = {}, trusted: { shippedKeyset?: undefined } = {}): OtaService {
  return new OtaService({
    config: otaSchema.parse({ model: MODEL, arch: ARCH, markGoodTimeoutMs: 60_000, reserveBytes: 0, ...config }),
    root: box.root,
    events: { publish: (event) => events.push(apiEventSchema.parse(event)) },
    log: silentLogger,
    clock: systemClock,
    runningVersion: '0.1.0',
    shippedKeyset: box.publisher.keyset,
    ...trusted,
    launcher: new EntrypointLauncher({ env: { ...process.env, FG_CLI: CLI } }),
  });
}

function progress(bundleId: string): Progress[] {
  return events.filter((e): e is Progress => e.type === 'ota-progress' && e.bundleId === bundleId);
}

async function finished(bundleId: string): Promise<Progress> {
  const deadline = Date.now() + 90_000;
  for (;;) {
    const last = progress(bundleId).at(-1);
    if (last?.phase === 'done' || last?.phase === 'failed') return last;
    if (Date.now() > deadline) assert.fail(`install of ${bundleId} did not finish: ${JSON.stringify(progress(bundleId))}`);
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
}

async function installed(ota: OtaService, version: number): Promise<string> {
  const { bundleId } = await ota.upload(streamOf(await bundleBytes(box.release(version, SCRIPTS.good))), {});
  ota.install({ bundleId });
  assert.equal((await finished(bundleId)).phase, 'done');
  return bundleId;
}

describe('OTA service', () => {
  it('refuses a tampered bundle with its reason, at verify and at install, and installs nothing', async () => {
    const ota = service();
    const release = box.release(1, SCRIPTS.good);
    const bytes = await bundleBytes(release);
    const at = offsetOf(bytes, release.files[1]?.data as Buffer) + 100;
    bytes[at] = (bytes[at] as number) ^ 0x01;

    const uploaded = await ota.upload(streamOf(bytes), { fileName: 'v1.tar' });
    assert.equal(uploaded.bytes, bytes.length);
    assert.match(uploaded.sha256, /^[0-9a-f]{64}$/);
    assert.deepEqual((await ota.status()).staged, uploaded);

    const verdict = apiMethods.verifyBundle.result.parse(await ota.verify({ bundleId: uploaded.bundleId }));
    assert.equal(verdict.ok, false);
    assert.equal(!verdict.ok && verdict.reason, 'file-hash-mismatch');
    assert.match(!verdict.ok ? verdict.message : '', /lib\/blob\.bin/);

    assert.deepEqual(ota.install({ bundleId: uploaded.bundleId }), { bundleId: uploaded.bundleId, started: true });
    const last = await finished(uploaded.bundleId);
    assert.deepEqual({ phase: last.phase, reason: last.reason }, { phase: 'failed', reason: 'file-hash-mismatch' });
    assert.equal(await box.current(), undefined);
    const status = await ota.status();
    assert.deepEqual(status.current, { version: '0.1.0', installedAt: null });
    assert.equal(status.installing, null);
  });

  it('stops reading an upload past ota.maxBundleBytes and keeps nothing', async () => {
    const ota = service({ maxBundleBytes: 64 * 1024 });
    let pulled = 0;
    const body = Readable.from(
      (function* () {
        for (let i = 0; i < 100; i++) {
          pulled += 4096;
          yield Buffer.alloc(4096, i);
        }
      })(),
    );
    await assert.rejects(ota.upload(body, {}), (error: unknown) => error instanceof ApiError && error.kind === 'too-large' && /ota\.maxBundleBytes \(65536 bytes\)/.test(error.message));
    assert.ok(pulled < 100 * 4096, `read ${pulled} bytes of an oversized upload`);
    assert.deepEqual(await readdir(uploadsDirOf(box.root)), []);
    assert.equal((await ota.status()).staged, null);
    await assert.rejects(ota.verify({ bundleId: '0123456789abcdef' }), (error: unknown) => error instanceof ApiError && error.kind === 'not-found');
  });

  it('installs a valid bundle with progress events, then rolls back to the previous version', async () => {
    const ota = service();
    const release = box.release(1, SCRIPTS.good);
    const uploaded = await ota.upload(streamOf(await bundleBytes(release)), {});
    const verdict = await ota.verify({ bundleId: uploaded.bundleId });
    assert.deepEqual({ ok: verdict.ok, version: verdict.ok && verdict.version }, { ok: true, version: '1.0.1' });

    ota.install({ bundleId: uploaded.bundleId });
    assert.throws(() => ota.install({ bundleId: uploaded.bundleId }), (error: unknown) => error instanceof ApiError && error.kind === 'conflict');
    assert.equal((await finished(uploaded.bundleId)).phase, 'done');
    const seen = progress(uploaded.bundleId);
    assert.deepEqual([...new Set(seen.map((e) => e.phase))], ['verifying', 'staging', 'switching', 'done']);
    const payloadBytes = release.files.reduce((sum, file) => sum + file.data.length, 0);
    const staging = seen.filter((e) => e.phase === 'staging');
    assert.equal(staging.at(-1)?.bytesDone, payloadBytes);
    assert.ok(staging.every((e, i) => e.bytesTotal === payloadBytes && (i === 0 || e.bytesDone >= (staging[i - 1]?.bytesDone ?? 0))), 'bytes done only grow');
    assert.equal(await box.current(), 'versions/1');

    let status = apiMethods.otaStatus.result.parse(await ota.status());
    assert.equal(status.current.version, '1.0.1');
    assert.ok(status.current.installedAt !== null);
    assert.deepEqual([status.previous, status.staged, status.installing, status.canRollback], [null, null, null, false]);
    await assert.rejects(ota.rollback(), (error: unknown) => error instanceof ApiError && error.kind === 'conflict' && /no previous version/.test(error.message));

    await installed(ota, 2);
    status = await ota.status();
    assert.deepEqual([status.current.version, status.previous, status.canRollback], ['1.0.2', { version: '1.0.1' }, true]);
    assert.deepEqual(await ota.rollback(), { version: '1.0.1' });
    assert.equal(await box.current(), 'versions/1');
    assert.equal((await ota.status()).current.version, '1.0.1');
  });

  it('shows its status without trusted keys, and refuses bundles for want of them', async () => {
    const ota = service({ trustedKeysFile: `${box.dir}/missing-keys.json` }, { shippedKeyset: undefined });
    assert.deepEqual((await ota.status()).current, { version: '0.1.0', installedAt: null });
    const { bundleId } = await ota.upload(streamOf(await bundleBytes(box.release(1, SCRIPTS.good))), {});
    const verdict = await ota.verify({ bundleId });
    assert.deepEqual([verdict.ok, !verdict.ok && verdict.reason], [false, 'keyset-invalid']);
    ota.install({ bundleId });
    assert.deepEqual([(await finished(bundleId)).phase, (await finished(bundleId)).reason], ['failed', 'keyset-invalid']);
  });
});
