/**
 * Every way a bundle or an install can be refused, as a stable machine-readable code. The UI and
 * the cloud switch on the code; the message is for the operator.
 */
export const OTA_REASONS = [
  // transport
  'fetch-failed',
  // archive structure
  'archive-unreadable',
  'archive-truncated',
  'archive-too-large',
  'decompression-bomb',
  'archive-too-many-entries',
  'archive-manifest-missing',
  'archive-manifest-not-first',
  'archive-absolute-path',
  'archive-path-traversal',
  'archive-bad-path',
  'archive-symlink',
  'archive-hardlink',
  'archive-device',
  'archive-entry-type',
  'archive-duplicate-entry',
  // manifest
  'manifest-too-large',
  'manifest-not-canonical',
  'manifest-number-out-of-range',
  'manifest-invalid',
  'manifest-too-deep',
  'manifest-too-many-files',
  'manifest-duplicate-file',
  // signatures and keys
  'signature-missing',
  'signature-duplicate',
  'signature-unknown-key',
  'signature-invalid',
  'signature-threshold',
  'rotation-signature-missing',
  'rotation-signature-duplicate',
  'rotation-unknown-key',
  'rotation-signature-invalid',
  'rotation-threshold',
  'keyset-invalid',
  // payload
  'file-missing',
  'file-extra',
  'file-size-mismatch',
  'file-hash-mismatch',
  // policy
  'app-mismatch',
  'model-mismatch',
  'arch-mismatch',
  'version-not-newer',
  'security-counter-below-floor',
  'expired',
  // install
  'insufficient-disk-space',
  'install-in-progress',
  'version-already-installed',
  'no-previous-version',
  'mark-good-timeout',
  'new-version-exited',
  'launch-failed',
] as const;

export type OtaReason = (typeof OTA_REASONS)[number];

/** A refusal: `code` is stable, `message` names the field or file and what was expected. */
export class OtaError extends Error {
  constructor(
    readonly code: OtaReason,
    message: string,
  ) {
    super(`${code}: ${message}`);
    this.name = 'OtaError';
  }
}
