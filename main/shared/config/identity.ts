import { z } from 'zod';
import { durationMs, filePath } from './common.js';

/** Distinguished-name attributes besides the CN, which is always `gateway.id` (the broker ACL relies on it). */
const subjectSchema = z
  .strictObject({
    organization: z.string().min(1).optional(),
    organizationalUnit: z.string().min(1).optional(),
    country: z.string().regex(/^[A-Z]{2}$/, { error: 'expected a two-letter ISO country code such as "DE"' }).optional(),
    state: z.string().min(1).optional(),
    locality: z.string().min(1).optional(),
  })
  .prefault({});

const subjectAltNamesSchema = z
  .strictObject({
    dns: z.array(z.string().regex(/^[A-Za-z0-9*][A-Za-z0-9.-]*$/, { error: 'expected a DNS name' })).default([]),
    ip: z.array(z.union([z.ipv4(), z.ipv6()], { error: 'expected an IPv4 or IPv6 address' })).default([]),
    uri: z.array(z.url({ error: 'expected a URI such as urn:fieldgate:gw-1' })).default([]),
  })
  .prefault({});

const rotationSchema = z
  .strictObject({
    enabled: z.boolean().default(true),
    /** Rotate once this share of the certificate's lifetime has passed (0.67 of a year ≈ 8 months). */
    atLifetimeShare: z
      .number()
      .gt(0, { error: 'expected a share of the lifetime between 0 and 1 (exclusive), e.g. 0.67' })
      .lt(1, { error: 'expected a share of the lifetime between 0 and 1 (exclusive), e.g. 0.67' })
      .default(0.67),
    /** How long to wait for `cert/issued` after publishing a CSR before giving up and alerting. */
    responseTimeoutMs: durationMs.min(1000).default(15 * 60_000),
    /** After a failed or unanswered rotation, wait this long before the next attempt. */
    retryIntervalMs: durationMs.min(1000).default(60 * 60_000),
  })
  .prefault({});

/** A PKCS#11 token that holds the device key (SoftHSM2, tpm2-pkcs11, a vendor's secure element). */
const pkcs11Schema = z
  .strictObject({
    /** The token's PKCS#11 library, e.g. /usr/lib/softhsm/libsofthsm2.so. */
    module: filePath,
    /** The token by its label (as `pkcs11-tool --list-slots` prints it), or by `slot` id. */
    tokenLabel: z.string().min(1).optional(),
    slot: z.number().int().min(0, { error: 'expected a slot id >= 0 (as pkcs11-tool --list-slots prints it)' }).optional(),
    /** A file (0600, owned by the service user) holding the user PIN; an inline PIN is never accepted. */
    pinFile: filePath,
    /** After the token refused (wrong PIN, token missing), wait this long before using it again, so a real token does not lock out. */
    retryIntervalMs: durationMs.min(60_000, { error: 'expected at least 60000 ms: every attempt may count against the token\'s PIN retry limit' }).default(15 * 60_000),
  })
  .superRefine((pkcs11, ctx) => {
    if ((pkcs11.tokenLabel === undefined) === (pkcs11.slot === undefined)) {
      ctx.addIssue({
        code: 'custom',
        path: ['tokenLabel'],
        input: pkcs11.tokenLabel,
        message: 'name the token with exactly one of identity.pkcs11.tokenLabel or identity.pkcs11.slot (pkcs11-tool --module MODULE --list-slots shows both)',
      });
    }
  });

export type Pkcs11Config = z.infer<typeof pkcs11Schema>;

export const identitySchema = z
  .strictObject({
    /** Where the device key and certificate live. Defaults to `<gateway.dataDir>/identity`. */
    dir: filePath.optional(),
    /** CA bundle the device certificate must chain to. Defaults to `cloud.caFile`. */
    caFile: filePath.optional(),
    keyAlgorithm: z.enum(['ecdsa-p256', 'ecdsa-p384', 'rsa-2048', 'rsa-3072']).default('ecdsa-p256'),
    subject: subjectSchema,
    subjectAltNames: subjectAltNamesSchema,
    rotation: rotationSchema,
    /** Days-left thresholds that raise an expiry alert, checked every `checkIntervalMs`. */
    alertDaysLeft: z.array(z.number().int().positive()).min(1).default([30, 7]),
    checkIntervalMs: durationMs.min(1000).default(60 * 60_000),
    /** Where the device key lives: `file` (key.pem in the identity folder) or `pkcs11` (generated in a token, never leaves it). */
    keyStore: z.enum(['file', 'pkcs11'], { error: 'expected "file" or "pkcs11"' }).default('file'),
    pkcs11: pkcs11Schema.optional(),
  })
  .superRefine((identity, ctx) => {
    if (identity.keyStore === 'pkcs11' && identity.pkcs11 === undefined) {
      ctx.addIssue({
        code: 'custom',
        path: ['pkcs11'],
        input: undefined,
        message: 'identity.keyStore pkcs11 needs identity.pkcs11 with module, tokenLabel (or slot) and pinFile',
      });
    }
    if (identity.keyStore === 'file' && identity.pkcs11 !== undefined) {
      ctx.addIssue({ code: 'custom', path: ['keyStore'], input: identity.keyStore, message: 'identity.pkcs11 is set but identity.keyStore is "file": set identity.keyStore: pkcs11 to use the token, or remove identity.pkcs11' });
    }
    if (identity.keyStore === 'pkcs11' && !identity.keyAlgorithm.startsWith('ecdsa-')) {
      ctx.addIssue({ code: 'custom', path: ['keyAlgorithm'], input: identity.keyAlgorithm, message: 'a key in a PKCS#11 token is ECDSA: use ecdsa-p256 (every token has it) or ecdsa-p384' });
    }
  })
  .prefault({});

export type IdentityConfig = z.infer<typeof identitySchema>;
export type KeyAlgorithm = IdentityConfig['keyAlgorithm'];
