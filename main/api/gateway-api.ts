import type { GatewayApi, GatewayStatus } from '../shared/api.js';
import type { ComponentHealth } from '../shared/lifecycle.js';
import type { Source } from '../shared/source.js';
import { FIELDGATE_VERSION } from '../shared/version.js';

/** A component that can describe itself for the status page (buffer depth, uplink errors, …). */
export interface StatusReporter {
  readonly name: string;
  status(): unknown;
}

export interface GatewayApiDeps {
  gatewayId: string;
  startedAt: Date;
  components: () => ComponentHealth[];
  sources: readonly Source[];
  reporters: readonly StatusReporter[];
}

export function createGatewayApi(deps: GatewayApiDeps): GatewayApi {
  return {
    async status(): Promise<GatewayStatus> {
      return {
        gatewayId: deps.gatewayId,
        version: FIELDGATE_VERSION,
        startedAt: deps.startedAt.toISOString(),
        components: deps.components(),
        sensors: deps.sources.flatMap((source) => source.sensors()),
        details: Object.fromEntries(deps.reporters.map((reporter) => [reporter.name, reporter.status()])),
      };
    },
  };
}
