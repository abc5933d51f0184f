/** The parts of GatewayStatus the page shows (the full contract is main/shared/api.ts). */
export interface StatusView {
  gatewayId: string;
  version: string;
  components: { name: string; state: string; error?: string }[];
  sensors: { sensorId: string; source: string; online: boolean; lastSeen: number | null; rate: number }[];
  details: {
    buffer?: { depth: number; bytes: number; inFlight: number; oldestUnsentAgeMs: number | null; drops: Record<string, number> };
    uplink?: {
      state: string;
      broker: string;
      connectedSince: string | null;
      lastError: { kind: string; message: string; at: string } | null;
      readingsSent: number;
    };
  };
}

/** One client interface for the UI: over HTTP in a browser, over the preload bridge in Electron. */
export interface GatewayClient {
  status(): Promise<StatusView>;
}

declare global {
  interface Window {
    fieldgate?: GatewayClient;
  }
}

export function gatewayClient(): GatewayClient {
  if (window.fieldgate) return window.fieldgate;
  return {
    async status() {
      const response = await fetch('/api/status', { headers: { accept: 'application/json' } });
      if (!response.ok) throw new Error(`status request failed: HTTP ${response.status}`);
      return (await response.json()) as StatusView;
    },
  };
}
