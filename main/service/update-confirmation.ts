import type { Logger } from '../log/logger.js';
import { markGoodAfterHealthChecks } from '../ota/mark-good.js';
import type { Clock } from '../shared/clock.js';
import type { ComponentHealth } from '../shared/lifecycle.js';
import type { UplinkStatus } from '../uplink/uplink.js';

const POLL_MS = 1000;

/**
 * Healthy enough to confirm an update: every component running (buffer open, sensors started)
 * and the uplink connected, or no cloud configured at all (an offline-tolerant box).
 */
export function isHealthy(components: readonly ComponentHealth[], uplink: UplinkStatus | undefined): boolean {
  return components.every((c) => c.state === 'running') && (uplink === undefined || uplink.state === 'connected');
}

export interface UpdateConfirmationDeps {
  components: () => ComponentHealth[];
  uplink: () => UplinkStatus | undefined;
  /** The OTA root when `ota` is configured. */
  otaRoot: string | undefined;
  clock: Clock;
  log: Logger;
  signal: AbortSignal;
}

/**
 * Marks a freshly installed version good once the gateway is healthy. Never confirming is what
 * lets the installer roll back a version that cannot connect or start its parts.
 */
export async function confirmUpdateWhenHealthy(deps: UpdateConfirmationDeps): Promise<void> {
  while (!deps.signal.aborted) {
    if (isHealthy(deps.components(), deps.uplink())) {
      try {
        const outcome = await markGoodAfterHealthChecks({ clock: deps.clock, root: deps.otaRoot });
        if (outcome !== undefined) deps.log.info({ outcome }, 'this version is healthy and marked good');
      } catch (error) {
        deps.log.error({ err: error }, 'could not mark this version good; the installer will roll it back');
      }
      return;
    }
    await new Promise((resolve) => setTimeout(resolve, POLL_MS).unref());
  }
}
