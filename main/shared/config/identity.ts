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
  })
  .prefault({});

export type IdentityConfig = z.infer<typeof identitySchema>;
export type KeyAlgorithm = IdentityConfig['keyAlgorithm'];
