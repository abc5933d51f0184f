import { hexToBytes } from '@noble/hashes/utils.js';
import { describeIssue, MAX_SIGNATURES, signatureSchema, type Keyset } from './documents.js';
import { verifyEd25519 } from './keys.js';
import { OtaError, type OtaReason } from './reasons.js';

interface ReasonSet {
  missing: OtaReason;
  duplicate: OtaReason;
  unknown: OtaReason;
  invalid: OtaReason;
  threshold: OtaReason;
}

export const MANIFEST_SIGNATURE_REASONS: ReasonSet = {
  missing: 'signature-missing',
  duplicate: 'signature-duplicate',
  unknown: 'signature-unknown-key',
  invalid: 'signature-invalid',
  threshold: 'signature-threshold',
};

export const ROTATION_SIGNATURE_REASONS: ReasonSet = {
  missing: 'rotation-signature-missing',
  duplicate: 'rotation-signature-duplicate',
  unknown: 'rotation-unknown-key',
  invalid: 'rotation-signature-invalid',
  threshold: 'rotation-threshold',
};

/**
 * k-of-n: at least `keyset.threshold` distinct trusted keys must have signed. Fails closed on
 * anything doubtful, even when the threshold would otherwise be met: a duplicate key id, a key
 * outside the set, or one bad signature.
 */
export function verifyThreshold(
  message: Uint8Array,
  rawSignatures: readonly unknown[],
  keyset: Keyset,
  reasons: ReasonSet,
  what: string,
): void {
  if (rawSignatures.length === 0) throw new OtaError(reasons.missing, `${what} carries no signatures`);
  if (rawSignatures.length > MAX_SIGNATURES) {
    throw new OtaError(reasons.invalid, `${what} carries ${rawSignatures.length} signatures; at most ${MAX_SIGNATURES} are allowed`);
  }
  const seen = new Set<string>();
  const signatures = rawSignatures.map((raw, i) => {
    const parsed = signatureSchema.safeParse(raw);
    if (!parsed.success) throw new OtaError(reasons.invalid, `${what}: ${describeIssue(parsed.error, `signatures.${i}`)}`);
    if (seen.has(parsed.data.keyId)) throw new OtaError(reasons.duplicate, `${what} is signed twice by key ${short(parsed.data.keyId)}`);
    seen.add(parsed.data.keyId);
    return parsed.data;
  });
  const keys = new Map(keyset.keys.map((key) => [key.keyId, key.publicKey]));
  for (const signature of signatures) {
    const publicKey = keys.get(signature.keyId);
    if (publicKey === undefined) {
      throw new OtaError(reasons.unknown, `${what} is signed by key ${short(signature.keyId)}, which is not in trusted key set v${keyset.version}`);
    }
    if (!verifyEd25519(hexToBytes(signature.sig), message, hexToBytes(publicKey))) {
      throw new OtaError(reasons.invalid, `${what}: the signature by key ${short(signature.keyId)} does not verify`);
    }
  }
  if (signatures.length < keyset.threshold) {
    throw new OtaError(
      reasons.threshold,
      `${what} has ${signatures.length} valid signature(s); trusted key set v${keyset.version} requires ${keyset.threshold}`,
    );
  }
}

function short(keyId: string): string {
  return keyId.slice(0, 16);
}
