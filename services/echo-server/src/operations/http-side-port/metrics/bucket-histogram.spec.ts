import { Histogram, Registry } from 'prom-client';
import { BucketHistogram } from './bucket-histogram';

const BOUNDS = [0.001, 0.01, 0.1];

describe('BucketHistogram', () => {
  let registry: Registry;
  let histogram: BucketHistogram<'door'>;

  beforeEach(() => {
    registry = new Registry();
    histogram = new BucketHistogram('test_seconds', 'Test durations.', BOUNDS, registry);
  });

  it('writes cumulative buckets, +Inf, _sum and _count, a value equal to a bound within that bound', async () => {
    const tcp = histogram.series({ door: 'tcp' });
    [0.001, 0.0005, 0.05, 7].forEach((value) => histogram.observe(tcp, value));

    expect(await registry.metrics()).toBe(
      [
        '# HELP test_seconds Test durations.',
        '# TYPE test_seconds histogram',
        'test_seconds_bucket{le="0.001",door="tcp"} 2',
        'test_seconds_bucket{le="0.01",door="tcp"} 2',
        'test_seconds_bucket{le="0.1",door="tcp"} 3',
        'test_seconds_bucket{le="+Inf",door="tcp"} 4',
        'test_seconds_sum{door="tcp"} 7.0515',
        'test_seconds_count{door="tcp"} 4',
        '',
      ].join('\n'),
    );
  });

  it('exports a series from its first observation on, in the order of first observations', async () => {
    const tcp = histogram.series({ door: 'tcp' });
    const udp = histogram.series({ door: 'udp' });
    expect(await registry.metrics()).toBe('# HELP test_seconds Test durations.\n# TYPE test_seconds histogram\n');

    histogram.observe(udp, 0.002);
    histogram.observe(tcp, 0.002);
    histogram.observe(udp, 0.002);

    const counts = (await histogram.get()).values.filter(({ metricName }) => metricName === 'test_seconds_count');
    expect(counts).toEqual([
      { metricName: 'test_seconds_count', labels: { door: 'udp' }, value: 2 },
      { metricName: 'test_seconds_count', labels: { door: 'tcp' }, value: 1 },
    ]);
  });

  it('is read by the registry as a prom-client Histogram observed the same way is, default labels too', async () => {
    const reference = new Registry();
    const stock = new Histogram<'door'>({
      name: 'test_seconds',
      help: 'Test durations.',
      labelNames: ['door'],
      buckets: BOUNDS,
      registers: [reference],
    });
    registry.setDefaultLabels({ instance: 'a"b' });
    reference.setDefaultLabels({ instance: 'a"b' });
    const series = { tcp: histogram.series({ door: 'tcp' }), udp: histogram.series({ door: 'udp\n"x"' }) };
    const observations: Array<[keyof typeof series, number]> = [
      ['udp', 0.1],
      ['tcp', 0.01],
      ['udp', 0.1000001],
      ['tcp', 0],
      ['tcp', -1],
    ];
    for (const [door, value] of observations) {
      histogram.observe(series[door], value);
      stock.observe(series[door].labels, value);
    }

    expect(await registry.metrics()).toBe(await reference.metrics());
    expect(await registry.getMetricsAsJSON()).toEqual(await withoutExemplars(reference));
  });

  it('forgets every observation on the registry reset, then exports a series again from its next one', async () => {
    const tcp = histogram.series({ door: 'tcp' });
    const udp = histogram.series({ door: 'udp' });
    histogram.observe(tcp, 0.5);
    histogram.observe(udp, 0.5);

    registry.resetMetrics();
    expect((await histogram.get()).values).toEqual([]);

    histogram.observe(udp, 0.005);
    const { values } = await histogram.get();
    expect(values.filter(({ metricName }) => metricName !== 'test_seconds_bucket')).toEqual([
      { metricName: 'test_seconds_sum', labels: { door: 'udp' }, value: 0.005 },
      { metricName: 'test_seconds_count', labels: { door: 'udp' }, value: 1 },
    ]);
    expect(values.map(({ value }) => value).slice(0, 4)).toEqual([0, 1, 1, 1]);
  });
});

/** A registry's JSON without prom-client's (empty) exemplar fields, which this histogram does not write. */
async function withoutExemplars(registry: Registry): Promise<unknown> {
  const metrics = await registry.getMetricsAsJSON();
  return metrics.map((metric) => ({
    ...metric,
    values: metric.values.map((value) => {
      const { exemplar: _exemplar, ...rest } = value as typeof value & { exemplar?: unknown };
      return rest;
    }),
  }));
}
