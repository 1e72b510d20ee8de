/** Outcomes of the load run's requests, as they complete. */
export class LoadTally {
  sent = 0;
  ok = 0;
  errors = 0;
  readonly errorsByCode = new Map<string, number>();
  private readonly okLatencies: Float64Array;

  constructor(capacity: number) {
    this.okLatencies = new Float64Array(capacity);
  }

  get completed(): number {
    return this.ok + this.errors;
  }

  /** Latencies of the successful requests, in completion order. */
  get latencies(): Float64Array {
    return this.okLatencies.subarray(0, this.ok);
  }

  succeeded(latencyMs: number): void {
    this.okLatencies[this.ok] = latencyMs;
    this.ok += 1;
  }

  failed(code: string): void {
    this.errors += 1;
    this.errorsByCode.set(code, (this.errorsByCode.get(code) ?? 0) + 1);
  }
}
