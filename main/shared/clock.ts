/** Wall-clock time; injected so tests can fake it at the edge. */
export interface Clock {
  now(): number;
}

export const systemClock: Clock = { now: () => Date.now() };
