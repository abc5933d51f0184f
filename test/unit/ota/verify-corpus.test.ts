// The adversarial corpus: every case is a tampered copy of a REAL signed bundle (or a bundle
// signed with real keys by the production code) and must be refused with its specific reason.
import { ed25519 } from '@noble/curves/ed25519.js';
import { bytesToHex, hexToBytes } from '@noble/hashes/utils.js';
import assert from 'node:assert/strict';
import { before, describe, test } from 'node:test';
import { gzipSync } from 'node:zlib';
import { canonicalize } from '../../../main/ota/canonical-json.js';
import { manifestMessage, MAX_MANIFEST_BYTES, MAX_MANIFEST_FILES } from '../../../main/ota/documents.js';
import { signWith } from '../../../main/ota/keys.js';
import { signKeyset } from '../../../main/ota/publish.js';
import { OtaError, type OtaReason } from '../../../main/ota/reasons.js';
import { verifyBundle, type VerifyContext } from '../../../main/ota/verify.js';
import {
  bundleBytes,
  contextOf,
  DAY,
  defaultFiles,
  makePublisher,
  makeRelease,
  manifestEntry,
  NOW_SECONDS,
  offsetOf,
  packEntries,
  payloadEntries,
  releaseEntries,
  streamOf,
  trustOf,
  type Entry,
  type Publisher,
  type Release,
} from './bundle-factory.js';

let publisher: Publisher; // 2-of-3
let release: Release; // version 2, the genuine article
let context: VerifyContext;

before(() => {
  publisher = makePublisher(3, 2);
  release = makeRelease(publisher.keys.slice(0, 2), { version: 2 });
  context = contextOf(trustOf(publisher));
});

async function expectRefusal(bytes: Buffer, reason: OtaReason, ctx: VerifyContext = context): Promise<void> {
  await assert.rejects(verifyBundle(streamOf(bytes), ctx), (error: unknown) => {
    assert.ok(error instanceof OtaError, `expected an OtaError, got ${String(error)}`);
    assert.equal(error.code, reason, error.message);
    return true;
  });
}

function withEntries(edit: (entries: Entry[]) => Entry[]): Promise<Buffer> {
  return packEntries(edit(releaseEntries(release)));
}

function resigned(signers = publisher.keys.slice(0, 2), edit: (manifest: Release['envelope']['signed']) => void = () => undefined): Release {
  const manifest = structuredClone(release.envelope.signed);
  edit(manifest);
  const message = manifestMessage(manifest);
  return { files: release.files, envelope: { signed: manifest, signatures: signers.map((key) => signWith(key, message)) } };
}

describe('OTA verify: genuine bundles pass (controls for the corpus)', () => {
  test('the untampered release verifies, plain and gzipped', async () => {
    for (const gzip of [false, true]) {
      const verified = await verifyBundle(streamOf(await bundleBytes(release, { gzip })), context);
      assert.equal(verified.manifest.version, 2);
      assert.equal(verified.totalBytes, release.files.reduce((sum, file) => sum + file.data.length, 0));
    }
  });

  test('a box whose clock reads 1970 and has no time evidence accepts an unexpired bundle', async () => {
    const verified = await verifyBundle(streamOf(await bundleBytes(release)), { ...context, now: () => 0 });
    assert.equal(verified.manifest.version, 2);
  });

  test('a rotation signed by a threshold of the old set is accepted and the manifest verifies against the new set', async () => {
    const next = makePublisher(2, 1, 2);
    const rotation = signKeyset(next.keyset, publisher.keys.slice(1, 3));
    const rotated = makeRelease(next.keys.slice(0, 1), { version: 3 }, { rotation });
    const verified = await verifyBundle(streamOf(await bundleBytes(rotated)), context);
    assert.equal(verified.rotatedKeyset?.version, 2);
    assert.deepEqual(verified.keyset, next.keyset);
  });
});

describe('OTA verify: adversarial corpus', () => {
  test('bit flip in a payload file → file-hash-mismatch', async () => {
    const bytes = await bundleBytes(release);
    const target = release.files[1]!.data;
    bytes[offsetOf(bytes, target) + 17]! ^= 0x04;
    await expectRefusal(bytes, 'file-hash-mismatch');
  });

  test('truncated payload file (archive rebuilt around it) → file-size-mismatch', async () => {
    const bytes = await withEntries((entries) => entries.map((e, i) => (i === 2 ? { ...e, data: e.data!.subarray(0, e.data!.length - 100) } : e)));
    await expectRefusal(bytes, 'file-size-mismatch');
  });

  test('payload file padded with extra bytes → file-size-mismatch', async () => {
    const bytes = await withEntries((entries) => entries.map((e, i) => (i === 1 ? { ...e, data: Buffer.concat([e.data!, Buffer.from('x')]) } : e)));
    await expectRefusal(bytes, 'file-size-mismatch');
  });

  test('archive cut off in the middle of a file → archive-truncated', async () => {
    const bytes = await bundleBytes(release);
    await expectRefusal(bytes.subarray(0, offsetOf(bytes, release.files[1]!.data) + 300), 'archive-truncated');
  });

  test('gzipped bundle cut off → archive-truncated', async () => {
    const bytes = await bundleBytes(release, { gzip: true });
    await expectRefusal(bytes.subarray(0, Math.floor(bytes.length * 0.7)), 'archive-truncated');
  });

  test('replayed old bundle (floor already at 3) → version-not-newer', async () => {
    await expectRefusal(await bundleBytes(release), 'version-not-newer', contextOf(trustOf(publisher, { floor: { version: 3, securityCounter: 1 } })));
  });

  test('equal version (floor at 2) → version-not-newer', async () => {
    await expectRefusal(await bundleBytes(release), 'version-not-newer', contextOf(trustOf(publisher, { floor: { version: 2, securityCounter: 1 } })));
  });

  test('newer version with a lower security counter → security-counter-below-floor', async () => {
    const low = makeRelease(publisher.keys.slice(0, 2), { version: 5, securityCounter: 1 });
    await expectRefusal(await bundleBytes(low), 'security-counter-below-floor', contextOf(trustOf(publisher, { floor: { version: 4, securityCounter: 2 } })));
  });

  test('fast-forward to 2^53, signed with real keys → manifest-number-out-of-range', async () => {
    const text = canonicalize(release.envelope.signed).replace('"version":2', `"version":${2 ** 53}`);
    const message = Buffer.concat([Buffer.from('fieldgate-ota:manifest:v1\n'), Buffer.from(text)]);
    const signatures = publisher.keys.slice(0, 2).map((key) => ({ keyId: key.keyId, sig: bytesToHex(ed25519.sign(message, hexToBytes(key.secretKey))) }));
    const envelopeText = `{"signatures":${canonicalize(signatures)},"signed":${text}}`;
    const bytes = await packEntries([manifestEntry(undefined, envelopeText), ...payloadEntries(release.files)]);
    await expectRefusal(bytes, 'manifest-number-out-of-range');
  });

  test('version edited after signing → signature-invalid', async () => {
    const forged = { ...release.envelope, signed: { ...release.envelope.signed, version: 99 } };
    await expectRefusal(await packEntries([manifestEntry(forged), ...payloadEntries(release.files)]), 'signature-invalid');
  });

  test('metadata mixed from two releases: manifest of v2 with payload of v3 → file-hash-mismatch', async () => {
    const other = makeRelease(publisher.keys.slice(0, 2), { version: 3 });
    await expectRefusal(await packEntries([manifestEntry(release.envelope), ...payloadEntries(other.files)]), 'file-hash-mismatch');
  });

  test('metadata mixed from two releases: manifest of v3 with signatures of v2 → signature-invalid', async () => {
    const other = makeRelease(publisher.keys.slice(0, 2), { version: 3 });
    const mixed = { signed: other.envelope.signed, signatures: release.envelope.signatures };
    await expectRefusal(await packEntries([manifestEntry(mixed), ...payloadEntries(other.files)]), 'signature-invalid');
  });

  test('expired metadata → expired', async () => {
    const old = makeRelease(publisher.keys.slice(0, 2), { version: 2, issuedAt: NOW_SECONDS - 60 * DAY, expiresAt: NOW_SECONDS - 30 * DAY });
    await expectRefusal(await bundleBytes(old), 'expired');
  });

  test('clock at 1970 cannot revive expired metadata once a later time was persisted → expired', async () => {
    const old = makeRelease(publisher.keys.slice(0, 2), { version: 2, issuedAt: NOW_SECONDS - 60 * DAY, expiresAt: NOW_SECONDS - 30 * DAY });
    const trust = trustOf(publisher, { evidence: { lastTrustedTime: NOW_SECONDS, newestIssuedAt: 0 } });
    await expectRefusal(await bundleBytes(old), 'expired', contextOf(trust, { now: () => 0 }));
  });

  test('clock at 1970: the newest verified issue time still bounds expiry → expired', async () => {
    const old = makeRelease(publisher.keys.slice(0, 2), { version: 2, issuedAt: NOW_SECONDS - 60 * DAY, expiresAt: NOW_SECONDS - 30 * DAY });
    const trust = trustOf(publisher, { evidence: { lastTrustedTime: 0, newestIssuedAt: NOW_SECONDS - 10 * DAY } });
    await expectRefusal(await bundleBytes(old), 'expired', contextOf(trust, { now: () => 0 }));
  });

  test('rotation signed by the new keys only → rotation-unknown-key', async () => {
    const next = makePublisher(2, 1, 2);
    const rotation = signKeyset(next.keyset, next.keys);
    await expectRefusal(await bundleBytes(makeRelease(next.keys.slice(0, 1), { version: 3 }, { rotation })), 'rotation-unknown-key');
  });

  test('rotation signed by one old key where the old set needs two → rotation-threshold', async () => {
    const next = makePublisher(2, 1, 2);
    const rotation = signKeyset(next.keyset, publisher.keys.slice(0, 1));
    await expectRefusal(await bundleBytes(makeRelease(next.keys.slice(0, 1), { version: 3 }, { rotation })), 'rotation-threshold');
  });

  test('manifest signed by keys outside the trusted set, no rotation → signature-unknown-key', async () => {
    const stranger = makePublisher(2, 2);
    await expectRefusal(await bundleBytes(makeRelease(stranger.keys, { version: 2 })), 'signature-unknown-key');
  });

  test('one trusted signature plus one from an unknown key → signature-unknown-key', async () => {
    const stranger = makePublisher(1, 1);
    await expectRefusal(await bundleBytes(resigned([publisher.keys[0]!, stranger.keys[0]!])), 'signature-unknown-key');
  });

  test('no signatures → signature-missing', async () => {
    await expectRefusal(await bundleBytes(resigned([])), 'signature-missing');
  });

  test('one signature where two are required → signature-threshold', async () => {
    await expectRefusal(await bundleBytes(resigned(publisher.keys.slice(0, 1))), 'signature-threshold');
  });

  test('the same key signing twice to reach the threshold → signature-duplicate', async () => {
    await expectRefusal(await bundleBytes(resigned([publisher.keys[0]!, publisher.keys[0]!])), 'signature-duplicate');
  });

  test('a corrupted signature among valid ones → signature-invalid', async () => {
    const three = resigned(publisher.keys);
    const sig = three.envelope.signatures[2]!;
    three.envelope.signatures[2] = { ...sig, sig: (sig.sig[0] === 'a' ? 'b' : 'a') + sig.sig.slice(1) };
    await expectRefusal(await bundleBytes(three), 'signature-invalid');
  });

  test('a malleated signature (S + L) → signature-invalid', async () => {
    const L = 2n ** 252n + 27742317777372353535851937790883648493n;
    const copy = resigned();
    const sig = hexToBytes(copy.envelope.signatures[0]!.sig);
    let s = 0n;
    for (let i = 31; i >= 0; i -= 1) s = (s << 8n) | BigInt(sig[32 + i]!);
    s += L;
    for (let i = 0; i < 32; i += 1) sig[32 + i] = Number((s >> BigInt(8 * i)) & 0xffn);
    copy.envelope.signatures[0] = { ...copy.envelope.signatures[0]!, sig: bytesToHex(sig) };
    await expectRefusal(await bundleBytes(copy), 'signature-invalid');
  });

  test('pretty-printed (non-canonical) manifest → manifest-not-canonical', async () => {
    const bytes = await packEntries([manifestEntry(undefined, JSON.stringify(release.envelope, null, 2)), ...payloadEntries(release.files)]);
    await expectRefusal(bytes, 'manifest-not-canonical');
  });

  test('the genuine signed manifest behind a UTF-8 byte-order mark → manifest-not-canonical', async () => {
    const entry = manifestEntry(release.envelope);
    const withBom = { ...entry, data: Buffer.concat([Buffer.from([0xef, 0xbb, 0xbf]), entry.data!]) };
    await expectRefusal(await packEntries([withBom, ...payloadEntries(release.files)]), 'manifest-not-canonical');
  });

  for (const depth of [3_000, 5_000]) {
    test(`a manifest nested ${depth} levels deep → manifest-too-deep (not a stack overflow)`, async () => {
      const nested = `${'['.repeat(depth)}${']'.repeat(depth)}`;
      const text = canonicalize(release.envelope).replace('"signatures":', `"deep":${nested},"signatures":`);
      await expectRefusal(await packEntries([manifestEntry(undefined, text), ...payloadEntries(release.files)]), 'manifest-too-deep');
    });
  }

  test('duplicate JSON key in the manifest → manifest-not-canonical', async () => {
    const text = canonicalize(release.envelope).replace('"appId":"fieldgate"', '"appId":"evil","appId":"fieldgate"');
    await expectRefusal(await packEntries([manifestEntry(undefined, text), ...payloadEntries(release.files)]), 'manifest-not-canonical');
  });

  test('over-large manifest → manifest-too-large', async () => {
    const huge = resigned(undefined, (m) => {
      m.label = 'x';
      m.files = Array.from({ length: 2500 }, (_, i) => ({ path: `f/${i}`, size: 1, sha256: '0'.repeat(64), executable: false }));
      m.files.push({ path: 'bin/start.js', size: 1, sha256: '0'.repeat(64), executable: true });
    });
    assert.ok(canonicalize(huge.envelope).length > MAX_MANIFEST_BYTES);
    await expectRefusal(await packEntries([manifestEntry(huge.envelope)]), 'manifest-too-large');
  });

  test('too many files in a signed manifest → manifest-too-many-files', async () => {
    const many = resigned(undefined, (m) => {
      m.files = Array.from({ length: MAX_MANIFEST_FILES + 1 }, (_, i) => ({ path: `${i}`, size: 0, sha256: '0'.repeat(64), executable: false }));
      m.entrypoint = '0';
    });
    await expectRefusal(await packEntries([manifestEntry(many.envelope)]), 'manifest-too-many-files');
  });

  test('the same file listed twice in a signed manifest → manifest-duplicate-file', async () => {
    const twice = resigned(undefined, (m) => m.files.push(m.files[1]!));
    await expectRefusal(await bundleBytes(twice), 'manifest-duplicate-file');
  });

  test('a file that is also the folder of another file → manifest-invalid', async () => {
    const clash = resigned(undefined, (m) => m.files.push({ path: 'lib/app.txt/x', size: 1, sha256: '0'.repeat(64), executable: false }));
    await expectRefusal(await bundleBytes(clash), 'manifest-invalid');
  });

  test('more archive entries than allowed → archive-too-many-entries', async () => {
    await expectRefusal(await bundleBytes(release), 'archive-too-many-entries', { ...context, limits: { maxEntries: 3 } });
  });

  test('decompression bomb (gzip of the bundle followed by 40 MiB of zeros) → decompression-bomb', async () => {
    const tar = await bundleBytes(release);
    const bomb = gzipSync(Buffer.concat([tar, Buffer.alloc(40 * 1024 * 1024)]));
    assert.ok(bomb.length < 200 * 1024, 'the bomb is small on disk');
    await expectRefusal(bomb, 'decompression-bomb');
  });

  test('bundle larger than the configured cap → archive-too-large', async () => {
    await expectRefusal(await bundleBytes(release), 'archive-too-large', { ...context, limits: { maxBundleBytes: 4096 } });
  });

  test('path traversal entry → archive-path-traversal', async () => {
    const bytes = await withEntries((entries) => [...entries, { header: { name: 'payload/../../etc/cron.d/x', type: 'file' }, data: Buffer.from('x') }]);
    await expectRefusal(bytes, 'archive-path-traversal');
  });

  test('absolute path entry → archive-absolute-path', async () => {
    const bytes = await withEntries((entries) => [...entries, { header: { name: '/etc/passwd', type: 'file' }, data: Buffer.from('x') }]);
    await expectRefusal(bytes, 'archive-absolute-path');
  });

  test('symlink entry named like a manifest file → archive-symlink', async () => {
    const bytes = await withEntries((entries) => [entries[0]!, { header: { name: 'payload/bin/start.js', type: 'symlink', linkname: '/etc/shadow' } }, ...entries.slice(2)]);
    await expectRefusal(bytes, 'archive-symlink');
  });

  test('hardlink entry → archive-hardlink', async () => {
    const bytes = await withEntries((entries) => [entries[0]!, { header: { name: 'payload/bin/start.js', type: 'link', linkname: 'manifest.json' } }, ...entries.slice(2)]);
    await expectRefusal(bytes, 'archive-hardlink');
  });

  test('character device entry → archive-device', async () => {
    const bytes = await withEntries((entries) => [...entries, { header: { name: 'payload/dev/mem', type: 'character-device', devmajor: 1, devminor: 1 } }]);
    await expectRefusal(bytes, 'archive-device');
  });

  test('fifo entry → archive-device', async () => {
    const bytes = await withEntries((entries) => [...entries, { header: { name: 'payload/pipe', type: 'fifo' } }]);
    await expectRefusal(bytes, 'archive-device');
  });

  test('directory entry → archive-entry-type', async () => {
    const bytes = await withEntries((entries) => [entries[0]!, { header: { name: 'payload/bin/', type: 'directory' } }, ...entries.slice(1)]);
    await expectRefusal(bytes, 'archive-entry-type');
  });

  test('a manifest file missing from the archive → file-missing', async () => {
    await expectRefusal(await withEntries((entries) => entries.slice(0, -1)), 'file-missing');
  });

  test('an extra file not in the manifest → file-extra', async () => {
    const bytes = await withEntries((entries) => [...entries, { header: { name: 'payload/backdoor.js', type: 'file' }, data: Buffer.from('evil()') }]);
    await expectRefusal(bytes, 'file-extra');
  });

  test('the same file twice in the archive → archive-duplicate-entry', async () => {
    await expectRefusal(await withEntries((entries) => [...entries, entries[1]!]), 'archive-duplicate-entry');
  });

  test('a second manifest.json later in the archive → archive-duplicate-entry', async () => {
    await expectRefusal(await withEntries((entries) => [...entries, entries[0]!]), 'archive-duplicate-entry');
  });

  test('payload before the manifest → archive-manifest-not-first', async () => {
    await expectRefusal(await withEntries((entries) => [...entries.slice(1), entries[0]!]), 'archive-manifest-not-first');
  });

  test('an empty archive → archive-manifest-missing', async () => {
    await expectRefusal(await packEntries([]), 'archive-manifest-missing');
  });

  test('bytes that are not an archive → archive-unreadable', async () => {
    await expectRefusal(Buffer.from('this is not a tar file'.repeat(100)), 'archive-unreadable');
  });

  test('wrong model → model-mismatch', async () => {
    await expectRefusal(await bundleBytes(release), 'model-mismatch', { ...context, device: { ...context.device, model: 'fg200' } });
  });

  test('wrong arch → arch-mismatch', async () => {
    await expectRefusal(await bundleBytes(release), 'arch-mismatch', { ...context, device: { ...context.device, arch: 'x64' } });
  });

  test('another application’s bundle → app-mismatch', async () => {
    await expectRefusal(await bundleBytes(makeRelease(publisher.keys.slice(0, 2), { version: 2, appId: 'other-app' })), 'app-mismatch');
  });

  test('a key set signature cannot be replayed as a manifest signature (domain separation) → signature-invalid', async () => {
    const keysetSig = signKeyset(publisher.keyset, publisher.keys.slice(0, 2)).signatures;
    const forged = { signed: release.envelope.signed, signatures: keysetSig };
    await expectRefusal(await packEntries([manifestEntry(forged), ...payloadEntries(defaultFiles(2))]), 'signature-invalid');
  });
});
