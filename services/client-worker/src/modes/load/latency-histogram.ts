import { createHistogram, type RecordableHistogram } from 'node:perf_hooks';

/** Significant figures of the histogram: integers under 2^18 (262 ms in µs) are kept exactly, larger ones within 1/131072. */
const FIGURES = 5;
/**
 * An hour in µs, the largest latency the histogram can tell (a longer one is recorded as an hour):
 * well above any call's, which ends within CALL_TIMEOUT_MS (at most 10 minutes).
 */
const HIGHEST_US = 3_600_000_000;

export interface LatencySummary {
  p50: number;
  p90: number;
  p99: number;
  max: number;
}

/**
 * Latencies in milliseconds, recorded as integer microseconds in Node's HDR histogram
 * (`perf_hooks.createHistogram()`) rather than kept one by one, so its memory is the same however
 * many calls a run makes. Percentiles are by the nearest-rank method, as if over the sorted values.
 * A latency is kept to the microsecond under 262 ms, and within 1/131072 of itself above. Memory
 * and precision in detail: docs/operations.md.
 */
export class LatencyHistogram {
  private readonly histogram: RecordableHistogram = createHistogram({ lowest: 1, highest: HIGHEST_US, figures: FIGURES });

  /** Latencies recorded so far. */
  get count(): number {
    return this.histogram.count;
  }

  record(latencyMs: number): void {
    // The histogram takes integers from 1: a latency under half a microsecond counts as 1 µs (0.0 ms printed all the same).
    this.histogram.record(Math.min(Math.max(Math.round(latencyMs * 1000), 1), HIGHEST_US));
  }

  /** The `p`-th percentile (0–100) of the latencies recorded, in ms; `NaN` when there are none. */
  percentile(p: number): number {
    if (!(p >= 0 && p <= 100)) {
      throw new RangeError(`percentile must be within 0..100, got ${p}`);
    }
    const count = this.histogram.count;
    if (count === 0) {
      return Number.NaN;
    }
    const rank = Math.max(1, Math.ceil((p / 100) * count));
    // The histogram's own percentile takes the value of rank round(p% of count), not the nearest
    // rank's ceil (p90 of 1..6 would be 5, not 6): asked for rank - 0.25 of count, it gives the
    // value of exactly `rank`, whether it rounds or takes the ceiling.
    return this.histogram.percentile((100 * (rank - 0.25)) / count) / 1000;
  }

  /** p50, p90, p99 and max; `NaN` each when nothing was recorded. */
  summary(): LatencySummary {
    return { p50: this.percentile(50), p90: this.percentile(90), p99: this.percentile(99), max: this.percentile(100) };
  }
}
