import type { ComponentHealth } from './lifecycle.js';
import type { SensorStatus } from './source.js';

/** What `GET /api/status`, `fieldgate status` and the setup UI show. */
export interface GatewayStatus {
  gatewayId: string;
  version: string;
  startedAt: string;
  components: ComponentHealth[];
  sensors: SensorStatus[];
  /** Per-part details (buffer depth, uplink connection and error counters, …), keyed by component name. */
  details: Record<string, unknown>;
}

/** The one API the UI talks to, over HTTP or Electron IPC. */
export interface GatewayApi {
  status(): Promise<GatewayStatus>;
}
