// Property tests for OTA input: canonical JSON, the manifest schema and the bundle (tar, tar.gz)
// reader. Every refusal is an OtaError with a code from main/ota/reasons.ts; nothing else escapes.
import assert from 'node:assert/strict';
import { before, describe, it } from 'node:test';
import { gzipSync } from 'node:zlib';
import fc from 'fast-check';
import { canonicalize, parseCanonical } from '../../../main/ota/canonical-json.js';
import { parseManifest } from '../../../main/ota/documents.js';
import { OTA_REASONS, OtaError } from '../../../main/ota/reasons.js';
import { verifyBundle, type VerifyContext } from '../../../main/ota/verify.js';
import { contextOf, makePublisher, makeRelease, packEntries, releaseEntries, streamOf, trustOf, type Entry, type Release } from '../ota/bundle-factory.js';
import { fuzz, fuzzAsync, mutatedBytes, mutatedText } from './harness.js';

const REASONS = new Set<string>(OTA_REASONS);
const MANIFEST_REASONS = new Set(['manifest-not-canonical', 'manifest-invalid', 'manifest-too-deep', 'manifest-number-out-of-range']);

function expectOtaError(error: unknown, allowed: ReadonlySet<string> = REASONS): void {
  if (!(error instanceof OtaError)) throw error;
  assert.ok(allowed.has(error.code), `unexpected code ${error.code}: ${error.message}`);
  assert.ok(error.message.startsWith(`${error.code}: `));
}

const safeJson = fc.jsonValue({ maxDepth: 4 }).map(function dropUnsafe(value: unknown): unknown {
  if (typeof value === 'number') return Number.isSafeInteger(value) && !Object.is(value, -0) ? value : 0;
  if (Array.isArray(value)) return value.map(dropUnsafe);
  if (value !== null && typeof value === 'object') return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, dropUnsafe(v)]));
  return value;
});

const DEEP = (n: number) => '['.repeat(n) + ']'.repeat(n);
/** Inputs that once got the wrong reason or a stack overflow (issue 13 items 15 and 16). */
const CANONICAL_REGRESSIONS: Uint8Array[] = [
  Uint8Array.from([0xef, 0xbb, 0xbf, ...new TextEncoder().encode('{}')]),
  new TextEncoder().encode(DEEP(5_000)),
  new TextEncoder().encode(DEEP(3_000)),
  new TextEncoder().encode('{"a":1,"a":1}'),
  new TextEncoder().encode('-0'),
  new TextEncoder().encode('9007199254740993'),
  new TextEncoder().encode('"\\ud800"'),
  Uint8Array.from([0x22, 0xed, 0xa0, 0x80, 0x22]),
];

describe('fuzz: canonical JSON', () => {
  it('parseCanonical: accepts exactly the canonical encoding of what it returns, refuses with a manifest code', () => {
    const text = fc.oneof(
      safeJson.map((value) => canonicalize(value)),
      mutatedText(safeJson.map((value) => canonicalize(value))),
      safeJson.map((value) => JSON.stringify(value, null, 1)),
      fc.constantFrom(DEEP(16), DEEP(17), `${'{"a":'.repeat(17)}1${'}'.repeat(17)}`),
    );
    const bytes = fc.oneof(text.map((t) => new TextEncoder().encode(t)), mutatedBytes(text.map((t) => new TextEncoder().encode(t))));
    fuzz(
      bytes,
      (input) => {
        let value: unknown;
        try {
          value = parseCanonical(input, 'manifest.json');
        } catch (error) {
          expectOtaError(error, MANIFEST_REASONS);
          return;
        }
        assert.deepEqual(new TextEncoder().encode(canonicalize(value)), input, 'accepted bytes are the canonical encoding');
      },
      { regressions: CANONICAL_REGRESSIONS },
    );
  });

  it('canonicalize then parseCanonical is the identity on safe JSON values', () => {
    fuzz(safeJson, (value) => {
      assert.deepEqual(parseCanonical(new TextEncoder().encode(canonicalize(value)), 'doc'), JSON.parse(JSON.stringify(value)));
    });
  });
});

let release: Release;
let context: VerifyContext;
let genuine: Buffer;

before(async () => {
  const publisher = makePublisher(1, 1);
  release = makeRelease(publisher.keys, { version: 2 }, {
    files: [
      { path: 'bin/start.js', data: Buffer.from('console.log(1)\n'), executable: true },
      { path: 'lib/a.txt', data: Buffer.from('abc') },
    ],
  });
  context = contextOf(trustOf(publisher));
  genuine = await packEntries(releaseEntries(release));
});

describe('fuzz: OTA manifest', () => {
  it('parseManifest on mutated manifests: a manifest or manifest-invalid / -too-many-files / -duplicate-file', () => {
    const allowed = new Set(['manifest-invalid', 'manifest-too-many-files', 'manifest-duplicate-file']);
    const edits = fc.array(fc.tuple(fc.constantFrom('type', 'format', 'appId', 'label', 'securityCounter', 'targets', 'issuedAt', 'expiresAt', 'entrypoint', 'files', 'extra'), fc.jsonValue({ maxDepth: 2 })), { maxLength: 3 });
    const fileEdits = fc.array(fc.record({ path: fc.oneof(fc.constantFrom('bin', 'bin/start.js', '../x', '/abs', 'a//b', '.', 'a/./b', ''), fc.string({ maxLength: 12 })), size: fc.oneof(fc.nat(), fc.integer()), sha256: fc.string({ maxLength: 64 }), executable: fc.boolean() }, { requiredKeys: [] }), { maxLength: 3 });
    fuzz(fc.tuple(edits, fileEdits), ([fieldEdits, extraFiles]) => {
      const manifest = structuredClone(release.envelope.signed) as unknown as Record<string, unknown>;
      for (const [field, value] of fieldEdits) manifest[field] = value;
      if (Array.isArray(manifest.files)) manifest.files = [...(manifest.files as unknown[]), ...extraFiles];
      try {
        parseManifest(manifest);
      } catch (error) {
        expectOtaError(error, allowed);
      }
    });
  });
});

describe('fuzz: bundle reader', () => {
  it('mutated tar and tar.gz bytes of a real signed bundle: verified or refused with a reason code', async () => {
    // Most edits land in the first header block and the manifest body, where the checks before
    // the (costly) signature verification live; the rest anywhere, payload and padding included.
    const manifestRegion = 512 + Buffer.from(JSON.stringify(release.envelope)).length;
    const at = (limit: number) => fc.integer({ min: 0, max: limit - 1 });
    const pointEdit = fc.tuple(at(manifestRegion), fc.integer({ min: 0, max: 255 }), fc.option(at(manifestRegion)), fc.integer({ min: 0, max: 255 })).map(([first, byte, second, other]) => {
      const copy = Uint8Array.from(genuine);
      copy[first] = byte;
      if (second !== null) copy[second] = other;
      return copy;
    });
    const variants = fc.oneof(
      { weight: 6, arbitrary: pointEdit },
      { weight: 2, arbitrary: mutatedBytes(fc.constant(Uint8Array.from(genuine))) },
      { weight: 1, arbitrary: mutatedBytes(fc.constant(Uint8Array.from(gzipSync(genuine)))) },
    );
    let verified = 0;
    await fuzzAsync(variants, async (bytes) => {
      try {
        await verifyBundle(streamOf(Buffer.from(bytes), 700), context);
        verified++;
      } catch (error) {
        expectOtaError(error);
      }
    }, { cases: 10_000 });
    assert.ok(verified > 0, 'some mutations (in padding) leave the bundle valid');
  });

  it('entry-level edits (names, types, order, duplicates, sizes): refused with a reason code', async () => {
    const names = fc.oneof(fc.constantFrom('manifest.json', 'payload/bin/start.js', 'payload/lib/a.txt', 'payload/../x', '/etc/passwd', 'payload/', 'payload/lib', './manifest.json', 'payload/a\\b'), fc.string({ maxLength: 20 }));
    const types = fc.constantFrom('file', 'directory', 'symlink', 'link', 'character-device', 'fifo', 'contiguous-file');
    const entryEdit = fc.record({ index: fc.nat(), name: fc.option(names), type: fc.option(types), drop: fc.boolean(), duplicate: fc.boolean(), data: fc.option(fc.uint8Array({ maxLength: 16 })) });
    await fuzzAsync(fc.array(entryEdit, { minLength: 1, maxLength: 3 }), async (edits) => {
      let entries: Entry[] = releaseEntries(release).map((entry) => ({ header: { ...entry.header }, ...(entry.data && { data: entry.data }) }));
      for (const edit of edits) {
        if (entries.length === 0) break;
        const at = edit.index % entries.length;
        const entry = entries[at] as Entry;
        if (edit.drop) {
          entries.splice(at, 1);
          continue;
        }
        if (edit.name !== null) entry.header.name = edit.name;
        if (edit.type !== null) entry.header.type = edit.type as Entry['header']['type'];
        if (edit.type === 'symlink' || edit.type === 'link') entry.header.linkname = 'target';
        if (edit.data !== null) entry.data = Buffer.from(edit.data);
        // tar-stream cannot write a body for these (and then rejects twice); such an archive never reaches a reader.
        if (entry.header.type !== 'file' && entry.header.type !== 'contiguous-file') delete entry.data;
        if (edit.duplicate) entries = [...entries.slice(0, at + 1), { header: { ...entry.header }, ...(entry.data && { data: entry.data }) }, ...entries.slice(at + 1)];
      }
      const bytes = await packEntries(entries);
      try {
        await verifyBundle(streamOf(bytes), context);
      } catch (error) {
        expectOtaError(error);
      }
    }, { cases: 1_000 });
  });
});
