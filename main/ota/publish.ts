import { sha256 } from '@noble/hashes/sha2.js';
import { bytesToHex } from '@noble/hashes/utils.js';
import { createReadStream } from 'node:fs';
import { lstat, readdir } from 'node:fs/promises';
import { join } from 'node:path';
import type { Writable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { createGzip } from 'node:zlib';
import tarStream from 'tar-stream';
import { canonicalize } from './canonical-json.js';
import { keysetMessage, manifestMessage, parseKeyset, parseManifest, type FileEntry, type Keyset, type Manifest, type Signature } from './documents.js';
import { signWith, type PublisherKey } from './keys.js';
import { isSafeRelativePath, MANIFEST_ENTRY, PAYLOAD_PREFIX } from './paths.js';

/** A payload file on the publisher's disk, with what the manifest will say about it. */
export interface PayloadFile {
  entry: FileEntry;
  source: string;
}

export interface SignedKeyset {
  signed: Keyset;
  signatures: Signature[];
}

export interface Envelope {
  signed: Manifest;
  signatures: Signature[];
  rotation?: SignedKeyset;
}

/** Walks a payload folder: regular files only, each hashed; a symlink or odd name is an error. */
export async function scanPayload(dir: string): Promise<PayloadFile[]> {
  const files: PayloadFile[] = [];
  const walk = async (relative: string): Promise<void> => {
    const entries = await readdir(join(dir, relative), { withFileTypes: true });
    for (const entry of entries.sort((a, b) => (a.name < b.name ? -1 : 1))) {
      const path = relative === '' ? entry.name : `${relative}/${entry.name}`;
      if (entry.isDirectory()) {
        await walk(path);
        continue;
      }
      if (!entry.isFile()) throw new Error(`payload "${path}" is not a regular file (symlinks and devices are not allowed)`);
      if (!isSafeRelativePath(path)) throw new Error(`payload "${path}": names may hold only letters, digits, ".", "_" and "-"`);
      const source = join(dir, path);
      const stats = await lstat(source);
      const hash = sha256.create();
      for await (const chunk of createReadStream(source) as AsyncIterable<Buffer>) hash.update(chunk);
      files.push({ source, entry: { path, size: stats.size, sha256: bytesToHex(hash.digest()), executable: (stats.mode & 0o111) !== 0 } });
    }
  };
  await walk('');
  if (files.length === 0) throw new Error(`payload folder "${dir}" holds no files`);
  return files;
}

export function signManifest(manifest: Manifest, keys: readonly PublisherKey[], rotation?: SignedKeyset): Envelope {
  const checked = parseManifest(JSON.parse(canonicalize(manifest)));
  const message = manifestMessage(checked);
  return { signed: checked, signatures: keys.map((key) => signWith(key, message)), ...(rotation ? { rotation } : {}) };
}

/** A rotation to `keyset`, signed by keys of the set it replaces (at least that set's threshold). */
export function signKeyset(keyset: Keyset, oldKeys: readonly PublisherKey[]): SignedKeyset {
  const checked = parseKeyset(keyset, 'new key set');
  const message = keysetMessage(checked);
  return { signed: checked, signatures: oldKeys.map((key) => signWith(key, message)) };
}

/** Writes the archive: `manifest.json` first, then `payload/<path>` for each file, optionally gzipped. */
export async function writeBundle(envelope: Envelope, files: readonly PayloadFile[], output: Writable, options: { gzip: boolean }): Promise<void> {
  const pack = tarStream.pack();
  const done = options.gzip ? pipeline(pack, createGzip(), output) : pipeline(pack, output);
  const manifestBytes = Buffer.from(canonicalize(envelope));
  await new Promise<void>((resolve, reject) => {
    pack.entry({ name: MANIFEST_ENTRY, size: manifestBytes.length, mode: 0o644, mtime: new Date(0) }, manifestBytes, (error) => (error ? reject(error) : resolve()));
  });
  for (const file of files) {
    const sink = pack.entry({
      name: PAYLOAD_PREFIX + file.entry.path,
      size: file.entry.size,
      mode: file.entry.executable ? 0o755 : 0o644,
      mtime: new Date(0),
    });
    await pipeline(createReadStream(file.source), sink as unknown as Writable);
  }
  pack.finalize();
  await done;
}
