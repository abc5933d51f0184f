// Builds REAL signed bundles with the production signing code, and tampered copies of them, for
// the OTA tests. Nothing here fakes verification: every case goes through verifyBundle.
import { sha256 } from '@noble/hashes/sha2.js';
import { bytesToHex } from '@noble/hashes/utils.js';
import { Readable } from 'node:stream';
import { gzipSync } from 'node:zlib';
import tarStream from 'tar-stream';
import { canonicalize } from '../../../main/ota/canonical-json.js';
import type { Keyset, Manifest } from '../../../main/ota/documents.js';
import { generatePublisherKey, type PublisherKey } from '../../../main/ota/keys.js';
import { signManifest, type Envelope, type SignedKeyset } from '../../../main/ota/publish.js';
import type { TrustState, VerifyContext } from '../../../main/ota/verify.js';

export const MODEL = 'fg100';
export const ARCH = 'arm64';
export const NOW_SECONDS = 1_790_000_000; // 2026-09
export const DAY = 86_400;

export interface Publisher {
  keys: PublisherKey[];
  keyset: Keyset;
}

export function makePublisher(n: number, threshold: number, version = 1): Publisher {
  const keys = Array.from({ length: n }, () => generatePublisherKey());
  return {
    keys,
    keyset: {
      type: 'fieldgate-ota-keyset',
      version,
      threshold,
      keys: keys.map((key) => ({ keyId: key.keyId, publicKey: key.publicKey })),
    },
  };
}

export interface PayloadSpec {
  path: string;
  data: Buffer;
  executable?: boolean;
}

export interface Release {
  envelope: Envelope;
  files: PayloadSpec[];
}

export interface Entry {
  header: Partial<tarStream.Header> & { name: string };
  data?: Buffer;
}

export function defaultFiles(version: number): PayloadSpec[] {
  return [
    { path: 'bin/start.js', data: Buffer.from(`console.log('fieldgate v${version}');\n`), executable: true },
    { path: 'lib/app.txt', data: Buffer.from(`release ${version}\n`.repeat(200)) },
    { path: 'package.json', data: Buffer.from('{"type":"commonjs"}\n') },
  ];
}

export function makeManifest(overrides: Partial<Manifest> & { version: number }, files: PayloadSpec[]): Manifest {
  return {
    type: 'fieldgate-ota-manifest',
    format: 1,
    appId: 'fieldgate',
    label: `1.0.${overrides.version}`,
    securityCounter: 1,
    targets: { models: [MODEL], archs: [ARCH] },
    issuedAt: NOW_SECONDS - DAY,
    expiresAt: NOW_SECONDS + 30 * DAY,
    entrypoint: 'bin/start.js',
    files: files.map((file) => ({
      path: file.path,
      size: file.data.length,
      sha256: bytesToHex(sha256(file.data)),
      executable: file.executable === true,
    })),
    ...overrides,
  };
}

/** A release signed by `signers` with the production signing code. */
export function makeRelease(
  signers: PublisherKey[],
  overrides: Partial<Manifest> & { version: number },
  options: { files?: PayloadSpec[]; rotation?: SignedKeyset } = {},
): Release {
  const files = options.files ?? defaultFiles(overrides.version);
  return { envelope: signManifest(makeManifest(overrides, files), signers, options.rotation), files };
}

export function manifestEntry(envelope: unknown, text = canonicalize(envelope)): Entry {
  return { header: { name: 'manifest.json', type: 'file', mode: 0o644 }, data: Buffer.from(text) };
}

export function payloadEntries(files: PayloadSpec[]): Entry[] {
  return files.map((file) => ({
    header: { name: `payload/${file.path}`, type: 'file', mode: file.executable ? 0o755 : 0o644 },
    data: file.data,
  }));
}

export function releaseEntries(release: Release): Entry[] {
  return [manifestEntry(release.envelope), ...payloadEntries(release.files)];
}

/** Packs entries exactly as given (names, types, order): the raw material for tampered copies. */
export async function packEntries(entries: Entry[]): Promise<Buffer> {
  const pack = tarStream.pack();
  const chunks: Buffer[] = [];
  pack.on('data', (chunk) => chunks.push(chunk as Buffer));
  const ended = new Promise<void>((resolve, reject) => {
    pack.on('end', resolve);
    pack.on('error', reject);
  });
  for (const entry of entries) {
    const data = entry.data ?? Buffer.alloc(0);
    const header = { mtime: new Date(0), ...entry.header, ...(entry.header.type === 'file' || entry.header.type === undefined ? { size: data.length } : {}) };
    await new Promise<void>((resolve, reject) => pack.entry(header, entry.data ?? Buffer.alloc(0), (error) => (error ? reject(error) : resolve())));
  }
  pack.finalize();
  await ended;
  return Buffer.concat(chunks);
}

export async function bundleBytes(release: Release, options: { gzip?: boolean } = {}): Promise<Buffer> {
  const tar = await packEntries(releaseEntries(release));
  return options.gzip ? gzipSync(tar) : tar;
}

export function trustOf(publisher: Publisher, overrides: Partial<TrustState> = {}): TrustState {
  return {
    keyset: publisher.keyset,
    floor: { version: 1, securityCounter: 1 },
    evidence: { lastTrustedTime: 0, newestIssuedAt: 0 },
    ...overrides,
  };
}

export function contextOf(trust: TrustState, overrides: Partial<VerifyContext> = {}): VerifyContext {
  return {
    trust,
    device: { appId: 'fieldgate', model: MODEL, arch: ARCH },
    now: () => NOW_SECONDS * 1000,
    ...overrides,
  };
}

/** The bundle as a stream of small chunks, so every check is exercised while streaming. */
export function streamOf(bytes: Buffer, chunkSize = 4096): Readable {
  const chunks: Buffer[] = [];
  for (let at = 0; at < bytes.length; at += chunkSize) chunks.push(bytes.subarray(at, at + chunkSize));
  return Readable.from(chunks, { objectMode: false });
}

/** Finds the offset of `needle` inside the archive, e.g. to flip a bit inside one payload file. */
export function offsetOf(haystack: Buffer, needle: Buffer): number {
  const at = haystack.indexOf(needle);
  if (at < 0) throw new Error('needle not found in bundle');
  return at;
}
