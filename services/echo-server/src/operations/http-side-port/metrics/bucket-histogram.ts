import type { Aggregator, Metric, Registry } from 'prom-client';

/**
 * One label set of a `BucketHistogram`, made once and kept by its caller: what an observation
 * adds to, with no lookup by labels and no allocation.
 */
export interface HistogramSeries<L extends string> {
  readonly labels: Readonly<Record<L, string>>;
  /** Observations per bucket, not cumulative: `buckets[i]` those above bound i-1 and at most bound i. */
  readonly buckets: Float64Array;
  sum: number;
  /** All observations, those above the last bound included (the `+Inf` bucket). */
  count: number;
}

type LabelValue = string | number;

/** A sample as prom-client's `Histogram` hands it to the registry: `le` in `labels`, the series' labels shared. */
interface Sample<L extends string> {
  labels: { le?: LabelValue };
  sharedLabels: Readonly<Record<L, string>>;
  value: number;
  metricName: string;
}

interface Samples<S> {
  name: string;
  help: string;
  type: 'histogram';
  values: S[];
  aggregator: Aggregator;
}

/**
 * A Prometheus histogram kept in plain arrays, for the hot path: `observe` finds the bucket and
 * adds, where prom-client's `Histogram.observe` validates the labels and hashes them into a
 * string per call. The registry reads it at scrape time through the interface it reads its own
 * metrics by (`getForPromString`, `get`, `reset`, and `name`, `help`, `type`, `aggregator`;
 * prom-client's cluster aggregation registers such plain objects too), and it hands over the
 * samples prom-client's `Histogram` would for the same observations: the same exposition, byte
 * for byte (bucket `le` labels first, cumulative counts, `+Inf`, `_sum`, `_count`, series in the
 * order of their first observation). A value equal to a bound counts in that bound's bucket (`<=`).
 */
export class BucketHistogram<L extends string> {
  readonly type = 'histogram';
  readonly aggregator: Aggregator = 'sum';
  /** The series observed since the start (or the last `reset`), in the order of their first observation. */
  private readonly observed: Array<HistogramSeries<L>> = [];

  constructor(
    readonly name: string,
    readonly help: string,
    private readonly bounds: readonly number[],
    registry: Registry,
  ) {
    // The typings name prom-client's four classes; the registry itself asks only for the members above.
    registry.registerMetric(this as unknown as Metric<L>);
  }

  /** A series of `labels`, exported from its first observation on. Make one per label set. */
  series(labels: Readonly<Record<L, string>>): HistogramSeries<L> {
    return { labels, buckets: new Float64Array(this.bounds.length), sum: 0, count: 0 };
  }

  /** Adds `value` to `series`: its bucket, sum and count. */
  observe(series: HistogramSeries<L>, value: number): void {
    if (series.count === 0) {
      this.observed.push(series);
    }
    const { bounds } = this;
    // Mostly a step or two: the shortest bounds come first, as the shortest requests are the most.
    for (let i = 0; i < bounds.length; i++) {
      if (value <= bounds[i]) {
        series.buckets[i] += 1;
        break;
      }
    }
    series.sum += value;
    series.count += 1;
  }

  /** What the registry writes the text exposition from. */
  getForPromString(): Promise<Samples<Sample<L>>> {
    const bucketName = `${this.name}_bucket`;
    const values: Array<Sample<L>> = [];
    for (const series of this.observed) {
      const sharedLabels = series.labels;
      let cumulative = 0;
      this.bounds.forEach((le, i) => {
        cumulative += series.buckets[i];
        values.push({ labels: { le }, sharedLabels, value: cumulative, metricName: bucketName });
      });
      values.push(
        { labels: { le: '+Inf' }, sharedLabels, value: series.count, metricName: bucketName },
        { labels: {}, sharedLabels, value: series.sum, metricName: `${this.name}_sum` },
        { labels: {}, sharedLabels, value: series.count, metricName: `${this.name}_count` },
      );
    }
    return Promise.resolve({ name: this.name, help: this.help, type: this.type, values, aggregator: this.aggregator });
  }

  /** The samples with their labels in one object (`le` first), as prom-client's `Histogram.get()`. */
  async get(): Promise<Samples<{ labels: Record<string, LabelValue>; value: number; metricName: string }>> {
    const samples = await this.getForPromString();
    return {
      ...samples,
      values: samples.values.map(({ labels, sharedLabels, value, metricName }) => ({
        value,
        metricName,
        labels: { ...labels, ...sharedLabels },
      })),
    };
  }

  /** Forgets every observation (`Registry.resetMetrics`): a series is exported again from its next one. */
  reset(): void {
    for (const series of this.observed) {
      series.buckets.fill(0);
      series.sum = 0;
      series.count = 0;
    }
    this.observed.length = 0;
  }
}
