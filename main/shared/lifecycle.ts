/**
 * A long-running part of the gateway. Constructors only assign; `start` does the work and
 * resolves once the component is running (not when it ends). `stop` releases everything and
 * must be safe to call after a failed or partial start.
 */
export interface Component {
  readonly name: string;
  start(signal: AbortSignal): Promise<void>;
  stop(): Promise<void>;
}

export type ComponentState = 'idle' | 'starting' | 'running' | 'failed' | 'stopping' | 'stopped';

export interface ComponentHealth {
  name: string;
  state: ComponentState;
  error?: string;
}
