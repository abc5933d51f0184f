/** The last seq handed out per sensor, and which sensors' seqs the next write must store. */
export class SensorSeqs {
  private readonly last = new Map<string, number>();
  /** Sensors whose seq advanced since the last successful write. */
  private readonly dirty = new Set<string>();

  get lastSeqs(): ReadonlyMap<string, number> {
    return this.last;
  }

  get unwritten(): boolean {
    return this.dirty.size > 0;
  }

  load(lastSeqs: ReadonlyMap<string, number>): void {
    for (const [sensorId, seq] of lastSeqs) this.last.set(sensorId, seq);
  }

  next(sensorId: string): number {
    const seq = (this.last.get(sensorId) ?? 0) + 1;
    this.last.set(sensorId, seq);
    this.dirty.add(sensorId);
    return seq;
  }

  toWrite(): Array<[sensorId: string, lastSeq: number]> {
    return [...this.dirty].map((sensorId) => [sensorId, this.last.get(sensorId) as number]);
  }

  written(): void {
    this.dirty.clear();
  }
}
