import { sha256 } from '@noble/hashes/sha2.js';
import { bytesToHex } from '@noble/hashes/utils.js';
import { Readable, Transform, type TransformCallback } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { createGunzip } from 'node:zlib';
import tarStream from 'tar-stream';
import { parseCanonical } from './canonical-json.js';
import {
  envelopeSchema,
  describeIssue,
  keysetMessage,
  manifestMessage,
  MAX_MANIFEST_BYTES,
  MAX_MANIFEST_FILES,
  parseKeyset,
  parseManifest,
  type FileEntry,
  type Keyset,
  type Manifest,
} from './documents.js';
import { MANIFEST_ENTRY, payloadPathOf } from './paths.js';
import { checkPolicy, type DeviceIdentity, type Floor, type TimeEvidence } from './policy.js';
import { OTA_DEFAULTS } from '../shared/config/ota.js';
import { OtaError } from './reasons.js';
import { MANIFEST_SIGNATURE_REASONS, ROTATION_SIGNATURE_REASONS, verifyThreshold } from './signatures.js';

export interface VerifyLimits {
  /** Cap on the bundle as stored (compressed) and on its unpacked size before the manifest is known. */
  maxBundleBytes: number;
  maxEntries: number;
}

/** The manifest plus at most {@link MAX_MANIFEST_FILES} payload files. */
export const DEFAULT_LIMITS: VerifyLimits = { maxBundleBytes: OTA_DEFAULTS.maxBundleBytes, maxEntries: MAX_MANIFEST_FILES + 1 };

export interface TrustState {
  keyset: Keyset;
  floor: Floor;
  evidence: TimeEvidence;
}

export interface VerifyContext {
  trust: TrustState;
  device: DeviceIdentity;
  /** Unix milliseconds from the system clock. */
  now: () => number;
  skewSeconds?: number;
  limits?: Partial<VerifyLimits>;
}

export interface ProgressEvent {
  phase: 'verify' | 'check-space' | 'extract' | 'switch' | 'trial' | 'rollback' | 'done';
  bytesHashed: number;
  totalBytes: number;
  version?: number;
}

/** Receives each payload file's bytes as they are hashed; nothing is trusted until verify resolves. */
export interface PayloadSink {
  beginFile(file: FileEntry): Promise<FileWriter>;
}

export interface FileWriter {
  write(chunk: Uint8Array): Promise<void>;
  close(): Promise<void>;
}

export interface VerifyHooks {
  sink?: PayloadSink;
  /** Called once the manifest is trusted and before any payload byte is read, e.g. to check disk space. */
  onManifest?: (manifest: Manifest) => Promise<void>;
  onProgress?: (event: ProgressEvent) => void;
}

export interface VerifiedBundle {
  manifest: Manifest;
  /** The key set that signed the manifest: a rotation's new set, or the trusted one. */
  keyset: Keyset;
  /** Set when the bundle carried a rotation, signed by a threshold of the old set, to a newer key set. */
  rotatedKeyset?: Keyset;
  totalBytes: number;
}

/** Per-entry tar overhead allowance (header, pax header and body, padding) when capping the unpacked stream. */
const ENTRY_OVERHEAD = 4 * 512;
const TAIL_ALLOWANCE = 64 * 1024;

/**
 * Verifies a bundle in one streaming pass. The manifest must come first: it is size-capped,
 * checked for canonical form, signatures and policy before a single payload byte is read. Each
 * payload entry is then hashed as it streams (and handed to the sink), capped at its declared size.
 * Rejects with an {@link OtaError} naming the first problem found.
 */
export async function verifyBundle(input: Readable, context: VerifyContext, hooks: VerifyHooks = {}): Promise<VerifiedBundle> {
  const limits = { ...DEFAULT_LIMITS, ...context.limits };
  const stored = new ByteCap(limits.maxBundleBytes, (cap) => new OtaError('archive-too-large', `the bundle is larger than ${cap} bytes`));
  input.on('error', (error) => stored.destroy(error));
  const { stream: unpacked, compressed, streams } = await maybeGunzip(input.pipe(stored));
  // On refusal, close everything down to the file descriptor: a service verifies many bundles.
  const closeAll = () => [input, stored, ...streams].forEach((stream) => stream.destroy());
  const unpackedCap = new ByteCap(limits.maxBundleBytes, (cap) =>
    compressed
      ? new OtaError('decompression-bomb', `the compressed bundle unpacks to more than ${cap} bytes`)
      : new OtaError('archive-too-large', `the bundle holds more than ${cap} bytes`),
  );
  const extract = tarStream.extract();
  const feeding = pipeline(unpacked, unpackedCap, extract).then(
    () => undefined,
    (error: unknown) => error,
  );

  let result: VerifiedBundle | undefined;
  const pending = new Map<string, FileEntry>();
  const seen = new Set<string>();
  let entries = 0;
  let bytesHashed = 0;
  try {
    for await (const entry of extract) {
      entries += 1;
      if (entries > limits.maxEntries) {
        throw new OtaError('archive-too-many-entries', `the bundle has more than ${limits.maxEntries} entries`);
      }
      const header = entry.header;
      checkEntryType(header);
      if (result === undefined) {
        if (header.name !== MANIFEST_ENTRY) {
          payloadPathOf(header.name);
          throw new OtaError('archive-manifest-not-first', `the first archive entry is "${header.name}"; expected "${MANIFEST_ENTRY}"`);
        }
        const bytes = await readCapped(entry as unknown as AsyncIterable<Buffer>, MAX_MANIFEST_BYTES, header.size ?? 0);
        result = verifyManifest(bytes, context);
        for (const file of result.manifest.files) pending.set(file.path, file);
        unpackedCap.cap = result.totalBytes + (result.manifest.files.length + 2) * ENTRY_OVERHEAD + bytes.length + TAIL_ALLOWANCE;
        await hooks.onManifest?.(result.manifest);
        hooks.onProgress?.({ phase: 'verify', bytesHashed, totalBytes: result.totalBytes, version: result.manifest.version });
        continue;
      }
      if (header.name === MANIFEST_ENTRY) throw new OtaError('archive-duplicate-entry', `"${MANIFEST_ENTRY}" appears twice`);
      const path = payloadPathOf(header.name);
      if (seen.has(path)) throw new OtaError('archive-duplicate-entry', `"${header.name}" appears twice in the archive`);
      const file = pending.get(path);
      if (file === undefined) throw new OtaError('file-extra', `"${path}" is in the archive but not in the manifest`);
      if (header.size !== file.size) {
        throw new OtaError('file-size-mismatch', `"${path}" is ${header.size} bytes in the archive; the manifest says ${file.size}`);
      }
      seen.add(path);
      pending.delete(path);
      await hashEntry(entry as unknown as AsyncIterable<Buffer>, file, hooks.sink, (n) => {
        bytesHashed += n;
        hooks.onProgress?.({ phase: 'verify', bytesHashed, totalBytes: result?.totalBytes ?? 0, version: result?.manifest.version });
      });
    }
  } catch (error) {
    extract.destroy();
    closeAll();
    const fed = await feeding;
    if (error instanceof SinkError) throw sinkFailure(error.cause);
    throw toOtaError(error instanceof OtaError ? error : (fed ?? error));
  }
  const fed = await feeding;
  if (fed !== undefined) throw toOtaError(fed);
  if (result === undefined) throw new OtaError('archive-manifest-missing', `the bundle has no "${MANIFEST_ENTRY}"`);
  const [missing] = pending.keys();
  if (missing !== undefined) throw new OtaError('file-missing', `"${missing}" is in the manifest but not in the archive`);
  return result;
}

function verifyManifest(bytes: Uint8Array, context: VerifyContext): VerifiedBundle {
  const parsed = envelopeSchema.safeParse(parseCanonical(bytes, MANIFEST_ENTRY));
  if (!parsed.success) throw new OtaError('manifest-invalid', describeIssue(parsed.error, 'envelope'));
  const envelope = parsed.data;
  const trusted = context.trust.keyset;
  let keyset = trusted;
  let rotatedKeyset: Keyset | undefined;
  if (envelope.rotation !== undefined) {
    const candidate = parseKeyset(envelope.rotation.signed, 'rotation');
    if (candidate.version > trusted.version) {
      verifyThreshold(keysetMessage(envelope.rotation.signed), envelope.rotation.signatures, trusted, ROTATION_SIGNATURE_REASONS, `key set rotation to v${candidate.version}`);
      keyset = candidate;
      rotatedKeyset = candidate;
    }
  }
  verifyThreshold(manifestMessage(envelope.signed), envelope.signatures, keyset, MANIFEST_SIGNATURE_REASONS, 'the manifest');
  const manifest = parseManifest(envelope.signed);
  checkPolicy(manifest, {
    device: context.device,
    floor: context.trust.floor,
    evidence: context.trust.evidence,
    systemSeconds: Math.floor(context.now() / 1000),
    skewSeconds: context.skewSeconds ?? OTA_DEFAULTS.clockSkewSeconds,
  });
  const totalBytes = manifest.files.reduce((sum, file) => sum + file.size, 0);
  return { manifest, keyset, ...(rotatedKeyset ? { rotatedKeyset } : {}), totalBytes };
}

function checkEntryType(header: tarStream.Header): void {
  switch (header.type) {
    case 'file':
      return;
    case 'symlink':
      throw new OtaError('archive-symlink', `archive entry "${header.name}" is a symlink (to "${header.linkname ?? ''}")`);
    case 'link':
      throw new OtaError('archive-hardlink', `archive entry "${header.name}" is a hard link (to "${header.linkname ?? ''}")`);
    case 'character-device':
    case 'block-device':
    case 'fifo':
      throw new OtaError('archive-device', `archive entry "${header.name}" is a ${header.type}`);
    default:
      throw new OtaError('archive-entry-type', `archive entry "${header.name}" is a ${header.type ?? 'unknown type'}; only regular files are allowed`);
  }
}

async function readCapped(entry: AsyncIterable<Buffer>, cap: number, declared: number): Promise<Uint8Array> {
  if (declared > cap) throw new OtaError('manifest-too-large', `"${MANIFEST_ENTRY}" is ${declared} bytes; at most ${cap} are allowed`);
  const chunks: Buffer[] = [];
  let length = 0;
  for await (const chunk of entry) {
    length += chunk.length;
    if (length > cap) throw new OtaError('manifest-too-large', `"${MANIFEST_ENTRY}" is larger than ${cap} bytes`);
    chunks.push(chunk);
  }
  return Buffer.concat(chunks);
}

async function hashEntry(entry: AsyncIterable<Buffer>, file: FileEntry, sink: PayloadSink | undefined, onBytes: (n: number) => void): Promise<void> {
  const hash = sha256.create();
  const writer = sink ? await sinkStep(() => sink.beginFile(file)) : undefined;
  let length = 0;
  try {
    for await (const chunk of entry) {
      length += chunk.length;
      if (length > file.size) throw new OtaError('file-size-mismatch', `"${file.path}" is longer than the ${file.size} bytes in the manifest`);
      hash.update(chunk);
      if (writer) await sinkStep(() => writer.write(chunk));
      onBytes(chunk.length);
    }
  } finally {
    if (writer) await sinkStep(() => writer.close());
  }
  if (length !== file.size) throw new OtaError('file-size-mismatch', `"${file.path}" is ${length} bytes; the manifest says ${file.size}`);
  const actual = bytesToHex(hash.digest());
  if (actual !== file.sha256) {
    throw new OtaError('file-hash-mismatch', `"${file.path}" has SHA-256 ${actual}; the manifest says ${file.sha256}`);
  }
}

/** A failure of the sink (the staging disk), kept apart from failures of the bundle itself. */
class SinkError extends Error {
  constructor(override readonly cause: unknown) {
    super('writing to staging failed');
  }
}

async function sinkStep<T>(step: () => Promise<T>): Promise<T> {
  try {
    return await step();
  } catch (error) {
    throw error instanceof OtaError ? error : new SinkError(error);
  }
}

function sinkFailure(cause: unknown): Error {
  const code = (cause as NodeJS.ErrnoException | undefined)?.code;
  if (code === 'ENOSPC' || code === 'EDQUOT') {
    return new OtaError('insufficient-disk-space', `the disk filled up while extracting (${(cause as Error).message})`);
  }
  return cause instanceof Error ? cause : new Error(String(cause));
}

/** Counts bytes through and fails once more than `cap` have passed; the cap may be tightened later. */
class ByteCap extends Transform {
  private total = 0;
  constructor(
    public cap: number,
    private readonly failure: (cap: number) => OtaError,
  ) {
    super();
  }
  override _transform(chunk: Buffer, _encoding: BufferEncoding, callback: TransformCallback): void {
    this.total += chunk.length;
    if (this.total > this.cap) callback(this.failure(this.cap));
    else callback(null, chunk);
  }
}

/** Looks at the first bytes: a gzip member is unpacked, anything else is read as a plain tar. */
async function maybeGunzip(input: Readable): Promise<{ stream: Readable; compressed: boolean; streams: Readable[] }> {
  const iterator = input[Symbol.asyncIterator]() as AsyncIterator<Buffer>;
  let first: Buffer = Buffer.alloc(0);
  while (first.length < 2) {
    const next = await iterator.next().catch((error: unknown) => {
      throw toOtaError(error);
    });
    if (next.done) break;
    first = Buffer.concat([first, next.value]);
  }
  const head = first;
  const rest = Readable.from(
    (async function* () {
      if (head.length > 0) yield head;
      for (;;) {
        const next = await iterator.next();
        if (next.done) return;
        yield next.value;
      }
    })(),
    { objectMode: false },
  );
  if (head[0] === 0x1f && head[1] === 0x8b) {
    const gunzip = createGunzip();
    rest.on('error', (error) => gunzip.destroy(error));
    return { stream: rest.pipe(gunzip), compressed: true, streams: [rest, gunzip] };
  }
  return { stream: rest, compressed: false, streams: [rest] };
}

function toOtaError(error: unknown): OtaError {
  if (error instanceof OtaError) return error;
  const message = error instanceof Error ? error.message : String(error);
  const code = (error as NodeJS.ErrnoException | undefined)?.code;
  if (/unexpected end/i.test(message) || code === 'Z_BUF_ERROR') {
    return new OtaError('archive-truncated', `the bundle ends early (${message})`);
  }
  return new OtaError('archive-unreadable', `the bundle is not a readable tar or tar.gz archive (${message})`);
}
