import { hexToBytes } from '@noble/hashes/utils.js';
import { z } from 'zod';
import { canonicalBytes } from './canonical-json.js';
import { isUsablePublicKey, keyIdOf } from './keys.js';
import { isSafeRelativePath } from './paths.js';
import { IDENTIFIER_PATTERN } from '../shared/config/common.js';
import { OtaError } from './reasons.js';

export const MAX_MANIFEST_BYTES = 256 * 1024;
/** Keeps the largest legal manifest (≈110 bytes per file) under {@link MAX_MANIFEST_BYTES}. */
export const MAX_MANIFEST_FILES = 2000;
export const MAX_SIGNATURES = 32;

const hex = (length: number) =>
  z.string().regex(new RegExp(`^[0-9a-f]{${length}}$`), { error: `expected ${length} lowercase hex characters` });
const name = z.string().regex(IDENTIFIER_PATTERN, {
  error: 'expected 1-64 letters, digits, ".", "_" or "-"',
});
const safeInt = z.number().int().min(0).max(Number.MAX_SAFE_INTEGER);

export const signatureSchema = z.strictObject({ keyId: hex(64), sig: hex(128) });
export type Signature = z.infer<typeof signatureSchema>;

export const keysetSchema = z
  .strictObject({
    type: z.literal('fieldgate-ota-keyset'),
    version: safeInt.min(1),
    threshold: safeInt.min(1),
    keys: z.array(z.strictObject({ keyId: hex(64), publicKey: hex(64) })).min(1).max(MAX_SIGNATURES),
  })
  .superRefine((keyset, ctx) => {
    if (keyset.threshold > keyset.keys.length) {
      ctx.addIssue({ code: 'custom', path: ['threshold'], message: `expected at most ${keyset.keys.length} (the number of keys)` });
    }
    const seen = new Set<string>();
    for (const [i, key] of keyset.keys.entries()) {
      if (!isUsablePublicKey(hexToBytes(key.publicKey))) {
        ctx.addIssue({ code: 'custom', path: ['keys', i, 'publicKey'], message: 'expected a canonical Ed25519 public key that is not of small order' });
      }
      if (keyIdOf(hexToBytes(key.publicKey)) !== key.keyId) {
        ctx.addIssue({ code: 'custom', path: ['keys', i, 'keyId'], message: 'expected the hex SHA-256 of publicKey' });
      }
      if (seen.has(key.keyId)) ctx.addIssue({ code: 'custom', path: ['keys', i], message: 'duplicate key' });
      seen.add(key.keyId);
    }
  });
export type Keyset = z.infer<typeof keysetSchema>;

export const fileEntrySchema = z.strictObject({
  path: z.string().refine(isSafeRelativePath, { error: 'expected a relative path of plain names' }),
  size: safeInt,
  sha256: hex(64),
  executable: z.boolean(),
});
export type FileEntry = z.infer<typeof fileEntrySchema>;

export const manifestSchema = z
  .strictObject({
    type: z.literal('fieldgate-ota-manifest'),
    format: z.literal(1),
    appId: name,
    version: safeInt.min(1),
    label: z.string().min(1).max(64),
    securityCounter: safeInt,
    targets: z.strictObject({ models: z.array(name).min(1).max(64), archs: z.array(name).min(1).max(16) }),
    issuedAt: safeInt,
    expiresAt: safeInt,
    entrypoint: z.string(),
    files: z.array(fileEntrySchema).min(1),
  })
  .superRefine((manifest, ctx) => {
    if (manifest.expiresAt <= manifest.issuedAt) {
      ctx.addIssue({ code: 'custom', path: ['expiresAt'], message: 'expected a time after issuedAt' });
    }
    if (!manifest.files.some((file) => file.path === manifest.entrypoint)) {
      ctx.addIssue({ code: 'custom', path: ['entrypoint'], message: 'expected the path of one of the files' });
    }
  });
export type Manifest = z.infer<typeof manifestSchema>;

const signedKeysetSchema = z.strictObject({ signed: z.unknown(), signatures: z.array(z.unknown()) });

export const envelopeSchema = z.strictObject({
  signed: z.unknown(),
  signatures: z.array(z.unknown()),
  rotation: signedKeysetSchema.optional(),
});
export type Envelope = z.infer<typeof envelopeSchema>;

/** Signatures are made over a domain-separated message so one kind of document can never pass as another. */
export function manifestMessage(manifest: unknown): Uint8Array {
  return withDomain('fieldgate-ota:manifest:v1\n', canonicalBytes(manifest));
}

export function keysetMessage(keyset: unknown): Uint8Array {
  return withDomain('fieldgate-ota:keyset:v1\n', canonicalBytes(keyset));
}

function withDomain(domain: string, body: Uint8Array): Uint8Array {
  const prefix = new TextEncoder().encode(domain);
  const message = new Uint8Array(prefix.length + body.length);
  message.set(prefix);
  message.set(body, prefix.length);
  return message;
}

/** zod's first problem, as `"field.path": what was expected`. */
export function describeIssue(error: z.ZodError, root: string): string {
  const issue = error.issues[0];
  if (!issue) return `${root} is invalid`;
  const path = [root, ...issue.path.map(String)].join('.');
  return `"${path}": ${issue.message}`;
}

export function parseKeyset(value: unknown, what: string): Keyset {
  const result = keysetSchema.safeParse(value);
  if (!result.success) throw new OtaError('keyset-invalid', `${what}: ${describeIssue(result.error, 'keyset')}`);
  return result.data;
}

export function parseManifest(value: unknown): Manifest {
  const files = (value as { files?: unknown } | null)?.files;
  if (Array.isArray(files)) {
    if (files.length > MAX_MANIFEST_FILES) {
      throw new OtaError('manifest-too-many-files', `the manifest lists ${files.length} files; at most ${MAX_MANIFEST_FILES} are allowed`);
    }
  }
  const result = manifestSchema.safeParse(value);
  if (!result.success) throw new OtaError('manifest-invalid', describeIssue(result.error, 'manifest'));
  const seen = new Set<string>();
  for (const file of result.data.files) {
    if (seen.has(file.path)) throw new OtaError('manifest-duplicate-file', `the manifest lists "${file.path}" more than once`);
    seen.add(file.path);
  }
  for (const file of result.data.files) {
    const segments = file.path.split('/');
    for (let depth = 1; depth < segments.length; depth += 1) {
      const folder = segments.slice(0, depth).join('/');
      if (seen.has(folder)) throw new OtaError('manifest-invalid', `"manifest.files": "${folder}" is a file and also the folder of "${file.path}"`);
    }
  }
  return result.data;
}
