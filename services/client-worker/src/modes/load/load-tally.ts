import { LatencyHistogram } from './latency-histogram';

/** Outcomes of the load run's requests, as they complete. */
export class LoadTally {
  sent = 0;
  ok = 0;
  errors = 0;
  readonly errorsByCode = new Map<string, number>();
  /** Latencies of the successful requests. */
  readonly latencies = new LatencyHistogram();

  get completed(): number {
    return this.ok + this.errors;
  }

  succeeded(latencyMs: number): void {
    this.latencies.record(latencyMs);
    this.ok += 1;
  }

  failed(code: string): void {
    this.errors += 1;
    this.errorsByCode.set(code, (this.errorsByCode.get(code) ?? 0) + 1);
  }
}
