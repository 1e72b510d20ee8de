import { TcpContext, type TcpSocket } from '@nestjs/microservices';
import { Registry, type Counter, type Histogram } from 'prom-client';
import type { TransportName } from '@echo-pair/common';
import { GatewayContext } from '../../../core/gateway-context';
import { OTHER_PATTERN, REQUEST_DURATION_BUCKETS, RequestMetrics } from './request-metrics';

function contextOf(pattern: string, transport: TransportName = 'tcp'): TcpContext | GatewayContext {
  return transport === 'tcp' ? new TcpContext([{} as TcpSocket, pattern]) : new GatewayContext([pattern, transport, '127.0.0.1:4242']);
}

type Labels = Record<string, string | number>;

/** The values of a metric's samples named `sample` (the metric's own name by default), with their labels. */
async function samples(registry: Registry, name: string, sample = name): Promise<Array<{ labels: Labels; value: number }>> {
  const metric = registry.getSingleMetric(name) as Counter | Histogram | undefined;
  if (metric === undefined) {
    throw new Error(`${name} is not registered`);
  }
  const { values } = await metric.get();
  return values
    .filter((value) => ('metricName' in value ? value.metricName : name) === sample)
    .map(({ labels, value }) => ({ labels: { ...labels } as Labels, value }));
}

describe('RequestMetrics', () => {
  let registry: Registry;
  let metrics: RequestMetrics;
  let now: jest.SpyInstance<number, []>;

  beforeEach(() => {
    registry = new Registry();
    metrics = new RequestMetrics(registry);
    now = jest.spyOn(performance, 'now').mockReturnValue(1_000);
  });

  afterEach(() => {
    jest.restoreAllMocks();
  });

  /** One request through the hooks: started at 1000 ms, ended `ms` later, failed with `code` if given. */
  function request(context: unknown, ms: number, code?: 'VALIDATION_FAILED' | 'UNKNOWN_COMMAND'): void {
    now.mockReturnValue(1_000);
    metrics.started(context);
    if (code !== undefined) {
      metrics.failed(context, code);
    }
    now.mockReturnValue(1_000 + ms);
    metrics.ended(context);
  }

  it('counts each request once it ended, by pattern, transport and outcome', async () => {
    request(contextOf('echo'), 1);
    request(contextOf('echo'), 1);
    request(contextOf('echo'), 1, 'VALIDATION_FAILED');
    request(contextOf('command', 'text'), 1, 'UNKNOWN_COMMAND');
    request(contextOf('hello', 'udp'), 1);
    const open = contextOf('echo');
    metrics.started(open); // not ended yet: not counted

    expect(await samples(registry, 'echo_server_requests_total')).toEqual([
      { labels: { pattern: 'echo', transport: 'tcp', outcome: 'ok' }, value: 2 },
      { labels: { pattern: 'echo', transport: 'tcp', outcome: 'VALIDATION_FAILED' }, value: 1 },
      { labels: { pattern: 'command', transport: 'text', outcome: 'UNKNOWN_COMMAND' }, value: 1 },
      { labels: { pattern: 'hello', transport: 'udp', outcome: 'ok' }, value: 1 },
    ]);
  });

  it('observes the time from the start hook to the end hook, in seconds, in the histogram of the same labels', async () => {
    request(contextOf('echo'), 0.3); // 300 µs
    request(contextOf('command'), 2_000, 'UNKNOWN_COMMAND');

    const counts = await samples(registry, 'echo_server_request_duration_seconds', 'echo_server_request_duration_seconds_count');
    const sums = await samples(registry, 'echo_server_request_duration_seconds', 'echo_server_request_duration_seconds_sum');
    const buckets = await samples(registry, 'echo_server_request_duration_seconds', 'echo_server_request_duration_seconds_bucket');
    expect(counts).toEqual([
      { labels: { pattern: 'echo', transport: 'tcp', outcome: 'ok' }, value: 1 },
      { labels: { pattern: 'command', transport: 'tcp', outcome: 'UNKNOWN_COMMAND' }, value: 1 },
    ]);
    expect(sums.map(({ value }) => value)).toEqual([expect.closeTo(0.0003, 9), expect.closeTo(2, 9)]);
    const echoBuckets = buckets.filter(({ labels }) => labels.pattern === 'echo');
    expect(echoBuckets.map(({ labels }) => labels.le)).toEqual([...REQUEST_DURATION_BUCKETS, '+Inf']);
    // Cumulative: 300 µs is above 250 µs and within 500 µs.
    expect(echoBuckets.find(({ labels }) => labels.le === 0.00025)?.value).toBe(0);
    expect(echoBuckets.find(({ labels }) => labels.le === 0.0005)?.value).toBe(1);
    const commandBuckets = buckets.filter(({ labels }) => labels.pattern === 'command');
    expect(commandBuckets.find(({ labels }) => labels.le === 1)?.value).toBe(0);
    expect(commandBuckets.find(({ labels }) => labels.le === 2.5)?.value).toBe(1);
  });

  it('leaves events out: they have no reply (echo_server_events_total counts them, from the stats)', async () => {
    request(contextOf('note'), 1);
    request(contextOf('note', 'udp'), 1);

    expect(await samples(registry, 'echo_server_requests_total')).toEqual([]);
    expect(await samples(registry, 'echo_server_request_duration_seconds', 'echo_server_request_duration_seconds_count')).toEqual([]);
  });

  it.each([
    { label: 'a JSON-quoted name', pattern: '"echo"' },
    { label: 'another case', pattern: 'ECHO' },
    { label: 'a long text', pattern: 'x'.repeat(1000) },
    { label: 'a peer address', pattern: '127.0.0.1:5050' },
  ])('labels a pattern outside the contract ($label) as "other", never with the text a peer sent', async ({ pattern }) => {
    request(contextOf(pattern), 1);

    expect(await samples(registry, 'echo_server_requests_total')).toEqual([
      { labels: { pattern: OTHER_PATTERN, transport: 'tcp', outcome: 'ok' }, value: 1 },
    ]);
  });

  it('attributes a failure to its own request only, and forgets it once that request ended', async () => {
    const failing = contextOf('echo');
    const fine = contextOf('echo');
    metrics.started(failing);
    metrics.started(fine);
    metrics.failed(failing, 'VALIDATION_FAILED');
    metrics.ended(fine);
    metrics.ended(failing);
    request(failing, 1); // the same object again (never happens: one context per message) starts afresh

    expect(await samples(registry, 'echo_server_requests_total')).toEqual([
      { labels: { pattern: 'echo', transport: 'tcp', outcome: 'ok' }, value: 2 },
      { labels: { pattern: 'echo', transport: 'tcp', outcome: 'VALIDATION_FAILED' }, value: 1 },
    ]);
  });

  it('ignores a failure or an end without a start, and a context of no known transport', async () => {
    const stray = contextOf('echo');
    metrics.failed(stray, 'UNKNOWN_COMMAND');
    metrics.ended(stray);
    request({ pattern: 'echo' }, 1);
    request(contextOf('echo'), 1);

    expect(await samples(registry, 'echo_server_requests_total')).toEqual([
      { labels: { pattern: 'echo', transport: 'tcp', outcome: 'ok' }, value: 1 },
    ]);
  });

  it('exports the totals afresh at every scrape: they only grow', async () => {
    request(contextOf('echo'), 1);
    expect(await samples(registry, 'echo_server_requests_total')).toEqual([expect.objectContaining({ value: 1 })]);

    request(contextOf('echo'), 1);
    request(contextOf('echo'), 1);
    expect(await samples(registry, 'echo_server_requests_total')).toEqual([expect.objectContaining({ value: 3 })]);
    expect(await samples(registry, 'echo_server_requests_total')).toEqual([expect.objectContaining({ value: 3 })]);
  });

  it('registers on the registry it is given only: two instances do not collide', async () => {
    const other = new Registry();
    const second = new RequestMetrics(other);
    request(contextOf('echo'), 1);
    second.started(contextOf('hello'));

    expect(await samples(registry, 'echo_server_requests_total')).toHaveLength(1);
    expect(await samples(other, 'echo_server_requests_total')).toEqual([]);
  });
});
