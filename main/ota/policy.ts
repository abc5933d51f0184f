import type { Manifest } from './documents.js';
import { OtaError } from './reasons.js';

/** The anti-rollback floor: the last version marked good. Lives in the state folder, outside the slots. */
export interface Floor {
  version: number;
  securityCounter: number;
}

/** What the box knows about time without an RTC, in Unix seconds. */
export interface TimeEvidence {
  /** The latest trusted time persisted by a previous install. */
  lastTrustedTime: number;
  /** The newest `issuedAt` of any bundle this box has verified and installed. */
  newestIssuedAt: number;
}

export interface DeviceIdentity {
  appId: string;
  model: string;
  arch: string;
}

/**
 * A box without an RTC may boot at 1970. Its clock can only move trusted time forward: trusted
 * time is the largest of the system clock, the last persisted trusted time and the newest issue
 * time already verified, so winding the clock back never revives expired metadata.
 */
export function trustedTime(systemSeconds: number, evidence: TimeEvidence): number {
  return Math.max(systemSeconds, evidence.lastTrustedTime, evidence.newestIssuedAt);
}

export function checkPolicy(
  manifest: Manifest,
  context: { device: DeviceIdentity; floor: Floor; evidence: TimeEvidence; systemSeconds: number; skewSeconds: number },
): void {
  const { device, floor } = context;
  if (manifest.appId !== device.appId) {
    throw new OtaError('app-mismatch', `the bundle is for app "${manifest.appId}"; this box runs "${device.appId}"`);
  }
  if (!manifest.targets.models.includes(device.model)) {
    throw new OtaError('model-mismatch', `the bundle targets models ${manifest.targets.models.join(', ')}; this box is "${device.model}"`);
  }
  if (!manifest.targets.archs.includes(device.arch)) {
    throw new OtaError('arch-mismatch', `the bundle targets ${manifest.targets.archs.join(', ')}; this box is "${device.arch}"`);
  }
  if (manifest.version <= floor.version) {
    throw new OtaError('version-not-newer', `bundle version ${manifest.version} is not newer than the installed floor ${floor.version}`);
  }
  if (manifest.securityCounter < floor.securityCounter) {
    throw new OtaError(
      'security-counter-below-floor',
      `bundle security counter ${manifest.securityCounter} is below the floor ${floor.securityCounter}`,
    );
  }
  const now = trustedTime(context.systemSeconds, context.evidence);
  if (now > manifest.expiresAt + context.skewSeconds) {
    throw new OtaError(
      'expired',
      `the bundle expired at ${isoSeconds(manifest.expiresAt)}; trusted time is ${isoSeconds(now)} (max of system clock, last persisted time, newest verified issue time)`,
    );
  }
}

export function isoSeconds(seconds: number): string {
  return new Date(seconds * 1000).toISOString();
}
