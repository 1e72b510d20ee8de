import {
  ErrorCodes,
  EVENT_PATTERNS,
  REQUEST_PATTERNS,
  SOCKET_REJECTION_REASONS,
  TRANSPORT_NAMES,
  UDP_DROP_REASONS,
  type EchoClient,
  type EchoRequest,
  type ServerStats,
} from '@echo-pair/common';
import type { RunningEchoServer } from '@echo-pair/echo-server';
import { createRequire } from 'node:module';
import { Registry, type Histogram } from 'prom-client';
import { readStats, rejection, statsWhen } from './support/client-calls';
import { PeerSet, pollUntil } from './support/line-peer';
import { frameOf, RawPeer } from './support/raw-peer';
import { ClientPool, startTestServer } from './support/test-server';

/** A sample as parse-prometheus-text-format returns it: values are strings, a histogram's buckets grouped. */
interface ParsedSample {
  labels?: Record<string, string>;
  value?: string;
  buckets?: Record<string, string>;
  count?: string;
  sum?: string;
}

interface ParsedFamily {
  name: string;
  help: string;
  type: 'COUNTER' | 'GAUGE' | 'HISTOGRAM' | 'SUMMARY' | 'UNTYPED';
  metrics: ParsedSample[];
}

/**
 * The parser ships no types: loaded through `createRequire`, typed by the interfaces above. It reads
 * every line (and throws on one that is not the text format), families, types, help, counters and
 * gauges; of a histogram with labels it keeps only the family (a known limitation, its issue #13:
 * the series are merged), so per-series histogram figures are read from the server's own
 * prom-client registry, the one `/metrics` writes out.
 */
const parsePrometheusTextFormat = createRequire(__filename)('parse-prometheus-text-format') as (text: string) => ParsedFamily[];

const PROMETHEUS_TEXT = 'text/plain; version=0.0.4; charset=utf-8';

/** `name{a="1",b="2"}` with the labels sorted: one key per series. */
function seriesKey(name: string, labels: Record<string, string> = {}): string {
  const pairs = Object.keys(labels)
    .sort()
    .map((label) => `${label}=${JSON.stringify(labels[label])}`);
  return `${name}{${pairs.join(',')}}`;
}

/** One scrape: the exposition parsed, and the histogram series' counts from the same registry. */
interface Scrape {
  families: ParsedFamily[];
  histogramCounts: Map<string, number>;
}

/**
 * Every monotonic figure of the server's own families, by series: each counter sample, and
 * each histogram series' `_count` (the process's default metrics move by themselves and are left out).
 */
function totals({ families, histogramCounts }: Scrape): Map<string, number> {
  const result = new Map<string, number>(histogramCounts);
  for (const family of families.filter(({ name }) => name.startsWith('echo_server_'))) {
    if (family.type === 'COUNTER') {
      family.metrics.forEach((sample) => result.set(seriesKey(family.name, sample.labels), Number(sample.value)));
    }
  }
  return result;
}

/** The series whose total moved from `before` to `after`, and by how much. */
function moved(before: Scrape, after: Scrape): Record<string, number> {
  const [from, to] = [totals(before), totals(after)];
  const deltas: Record<string, number> = {};
  for (const [key, value] of to) {
    const delta = value - (from.get(key) ?? 0);
    if (delta !== 0) {
      deltas[key] = delta;
    }
  }
  return deltas;
}

function family(families: ParsedFamily[], name: string): ParsedFamily {
  const found = families.find((candidate) => candidate.name === name);
  if (found === undefined) {
    throw new Error(`no ${name} in the exposition (${families.map(({ name: present }) => present).join(', ')})`);
  }
  return found;
}

/** The value of one series, 0 when it is not exported (yet). */
function valueOf(families: ParsedFamily[], name: string, labels: Record<string, string> = {}): number {
  const sample = family(families, name).metrics.find((candidate) => seriesKey(name, candidate.labels) === seriesKey(name, labels));
  return sample === undefined ? 0 : Number(sample.value);
}

/** The sum of a counter's series whose labels include `labels`. */
function sumOf(families: ParsedFamily[], name: string, labels: Record<string, string>): number {
  return family(families, name)
    .metrics.filter((sample) => Object.entries(labels).every(([label, value]) => sample.labels?.[label] === value))
    .reduce((sum, sample) => sum + Number(sample.value), 0);
}

describe('GET /metrics (Prometheus text format)', () => {
  let server: RunningEchoServer;
  let pool: ClientPool;
  let client: EchoClient;
  const peers = new PeerSet();

  async function scrapeText(): Promise<string> {
    const response = await fetch(`http://127.0.0.1:${server.metricsPort}/metrics`);
    expect(response.status).toBe(200);
    return response.text();
  }

  async function scrape(): Promise<ParsedFamily[]> {
    return parsePrometheusTextFormat(await scrapeText());
  }

  /** The request-duration histogram's series, from the registry behind `/metrics`. */
  async function histogramSeries(): Promise<Array<{ metricName: string; labels: Record<string, string | number>; value: number }>> {
    const histogram = server.app.get(Registry).getSingleMetric('echo_server_request_duration_seconds') as Histogram | undefined;
    const { values } = (await histogram?.get()) ?? { values: [] };
    return values.map(({ metricName = '', labels, value }) => ({
      metricName,
      labels: { ...labels } as Record<string, string | number>,
      value,
    }));
  }

  async function scrapeAll(): Promise<Scrape> {
    const families = await scrape();
    const histogramCounts = new Map(
      (await histogramSeries())
        .filter(({ metricName }) => metricName === 'echo_server_request_duration_seconds_count')
        .map(({ metricName, labels, value }) => [seriesKey(metricName, labels as Record<string, string>), value]),
    );
    return { families, histogramCounts };
  }

  /** Scrapes until `holds` (what is counted without a reply to wait for: a rejection, an event); bounded. */
  function scrapeUntil(holds: (families: ParsedFamily[]) => boolean): Promise<Scrape> {
    return pollUntil(scrapeAll, ({ families }) => holds(families), 5_000);
  }

  beforeAll(async () => {
    server = await startTestServer({ LOG_LEVEL: 'fatal' });
    pool = new ClientPool(server);
    client = pool.create();
    await client.hello({}); // connected before any baseline
  });

  afterEach(() => peers.destroyAll());

  afterAll(async () => {
    await pool?.closeAll();
    await peers.destroyAll();
    await server?.close();
  });

  it('listens on its own port, beside the transports', () => {
    expect(server.metricsPort).toEqual(expect.any(Number));
    expect([server.port, server.textPort, server.udpPort]).not.toContain(server.metricsPort);
  });

  it("serves the text format that a parser reads: the server's families, typed and described, and the process's default ones", async () => {
    const response = await fetch(`http://127.0.0.1:${server.metricsPort}/metrics`);
    expect(response.status).toBe(200);
    expect(response.headers.get('content-type')).toBe(PROMETHEUS_TEXT);
    expect(response.headers.get('x-powered-by')).toBeNull();

    const families = parsePrometheusTextFormat(await response.text());
    const types = Object.fromEntries(families.map(({ name, type }) => [name, type]));

    expect(types).toMatchObject({
      echo_server_requests_total: 'COUNTER',
      echo_server_request_duration_seconds: 'HISTOGRAM',
      echo_server_events_total: 'COUNTER',
      echo_server_errors_total: 'COUNTER',
      echo_server_connections_open: 'GAUGE',
      echo_server_connections_accepted_total: 'COUNTER',
      echo_server_connections_refused_total: 'COUNTER',
      echo_server_rejections_total: 'COUNTER',
      echo_server_messages_in_flight: 'GAUGE',
      echo_server_draining: 'GAUGE',
      echo_server_chat_deliveries_total: 'COUNTER',
      echo_server_udp_datagrams_received_total: 'COUNTER',
      // prom-client's default process and Node.js metrics
      process_cpu_user_seconds_total: 'COUNTER',
      process_resident_memory_bytes: 'GAUGE',
      nodejs_eventloop_lag_seconds: 'GAUGE',
      nodejs_gc_duration_seconds: 'HISTOGRAM',
    });
    for (const { name, help, type } of families.filter(({ name: metric }) => metric.startsWith('echo_server_'))) {
      expect(help).not.toBe('');
      expect(name.endsWith('_total')).toBe(type === 'COUNTER');
    }
    expect(valueOf(families, 'echo_server_draining')).toBe(0);
    expect(valueOf(families, 'echo_server_connections_open', { transport: 'tcp' })).toBe(1);
  });

  it('moves the counters by exactly the calls made: an ok echo, a validation error, an unknown command, a rejected frame', async () => {
    const before = await scrapeAll();

    await client.echo({ text: 'counted once' });
    expect((await rejection(client.send('echo', { text: 42 } as unknown as EchoRequest))).code).toBe('VALIDATION_FAILED');
    expect((await rejection(client.command({ name: 'no-such-command' }))).code).toBe('UNKNOWN_COMMAND');
    const peer = await RawPeer.connect(server.port);
    await peer.write('12x#{}');
    expect(await peer.closesWithin(5_000)).toBe(true);
    const after = await scrapeUntil((families) => valueOf(families, 'echo_server_rejections_total', { reason: 'BAD_HEADER' }) > 0);

    expect(moved(before, after)).toEqual({
      'echo_server_requests_total{outcome="ok",pattern="echo",transport="tcp"}': 1,
      'echo_server_requests_total{outcome="VALIDATION_FAILED",pattern="echo",transport="tcp"}': 1,
      'echo_server_requests_total{outcome="UNKNOWN_COMMAND",pattern="command",transport="tcp"}': 1,
      'echo_server_request_duration_seconds_count{outcome="ok",pattern="echo",transport="tcp"}': 1,
      'echo_server_request_duration_seconds_count{outcome="VALIDATION_FAILED",pattern="echo",transport="tcp"}': 1,
      'echo_server_request_duration_seconds_count{outcome="UNKNOWN_COMMAND",pattern="command",transport="tcp"}': 1,
      'echo_server_errors_total{code="VALIDATION_FAILED"}': 1,
      'echo_server_errors_total{code="UNKNOWN_COMMAND"}': 1,
      'echo_server_rejections_total{reason="BAD_HEADER"}': 1,
      'echo_server_connections_accepted_total{transport="tcp"}': 1,
    });
  });

  it('observes each request in the latency histogram: its buckets are cumulative and end at its count', async () => {
    await client.command({ name: 'sleep', args: ['120'] });

    expect(family(await scrape(), 'echo_server_request_duration_seconds').type).toBe('HISTOGRAM');
    const sleep = (await histogramSeries()).filter(({ labels }) => labels.pattern === 'command' && labels.outcome === 'ok');
    const buckets = sleep
      .filter(({ metricName }) => metricName.endsWith('_bucket'))
      .map(({ labels, value }) => [labels.le === '+Inf' ? Infinity : Number(labels.le), value] as const);
    const count = sleep.find(({ metricName }) => metricName.endsWith('_count'))?.value;
    const sum = sleep.find(({ metricName }) => metricName.endsWith('_sum'))?.value;
    const counts = buckets.map(([, value]) => value);
    expect(buckets.map(([le]) => le)).toEqual([
      0.0001,
      0.00025,
      0.0005,
      0.001,
      0.0025,
      0.005,
      0.01,
      0.025,
      0.05,
      0.1,
      0.25,
      0.5,
      1,
      2.5,
      5,
      10,
      Infinity,
    ]);
    expect(counts).toEqual([...counts].sort((a, b) => a - b));
    expect(buckets.at(-1)?.[1]).toBe(count);
    expect(count).toBe(1);
    // The sleep took at least 120 ms: in no bucket up to 0.1 s, and within 10 s.
    expect(buckets.find(([le]) => le === 0.1)?.[1]).toBe(0);
    expect(buckets.find(([le]) => le === 10)?.[1]).toBe(1);
    expect(sum).toBeGreaterThanOrEqual(0.12);
  });

  it('labels the text gateway and UDP as their transports, and counts their connection and datagram', async () => {
    const before = await scrapeAll();

    const line = await peers.connect(server.textPort!);
    expect(await line.ask('over text')).toBe('over text');
    const datagrams = await peers.datagram(server.udpPort!);
    expect((await datagrams.request('over udp\n')).toString('utf8')).toBe('over udp\n');
    const after = await scrapeAll();

    expect(moved(before, after)).toEqual({
      'echo_server_requests_total{outcome="ok",pattern="echo",transport="text"}': 1,
      'echo_server_requests_total{outcome="ok",pattern="echo",transport="udp"}': 1,
      'echo_server_request_duration_seconds_count{outcome="ok",pattern="echo",transport="text"}': 1,
      'echo_server_request_duration_seconds_count{outcome="ok",pattern="echo",transport="udp"}': 1,
      'echo_server_connections_accepted_total{transport="text"}': 1,
      'echo_server_udp_datagrams_received_total{}': 1,
    });
    expect(valueOf(after.families, 'echo_server_connections_open', { transport: 'text' })).toBe(1);
  });

  it('keeps every label value bounded: no peer address, pattern or text a peer chose', async () => {
    const peer = await RawPeer.connect(server.port);
    // A JSON-quoted name reaches the echo handler; a made-up pattern reaches none.
    await peer.write(frameOf({ pattern: '"echo"', data: { text: 'quoted' }, id: 'q1' }));
    await peer.write(frameOf({ pattern: `peer-chosen-${'x'.repeat(64)}`, data: {}, id: 'q2' }));
    expect((await peer.waitForFrames(2, 5_000)).map(({ id }) => id).sort()).toEqual(['q1', 'q2']);
    const families = await scrape();

    const allowed: Record<string, ReadonlySet<string>> = {
      pattern: new Set<string>([...REQUEST_PATTERNS, ...EVENT_PATTERNS, 'other']),
      transport: new Set<string>(TRANSPORT_NAMES),
      outcome: new Set<string>(['ok', ...Object.values(ErrorCodes)]),
      code: new Set<string>(Object.values(ErrorCodes)),
      reason: new Set<string>([...SOCKET_REJECTION_REASONS, ...UDP_DROP_REASONS]),
    };
    for (const { name, metrics } of families.filter(({ name: metric }) => metric.startsWith('echo_server_'))) {
      for (const { labels = {} } of metrics) {
        for (const [label, value] of Object.entries(labels)) {
          expect({ metric: name, label, known: allowed[label]?.has(value) ?? false }).toEqual({ metric: name, label, known: true });
        }
      }
    }
    expect(valueOf(families, 'echo_server_requests_total', { pattern: 'other', transport: 'tcp', outcome: 'ok' })).toBe(1);
    peer.destroy();
  });

  it('agrees with stats: the same requests per pattern, events, errors, rejections and connections', async () => {
    await client.note({ text: 'an event' });
    await statsWhen(client, (stats) => stats.events.note > 0);
    const stats: ServerStats = await readStats(client);
    const families = await scrape(); // the stats call has replied: nothing is in flight

    expect(valueOf(families, 'echo_server_messages_in_flight')).toBe(0);
    for (const pattern of REQUEST_PATTERNS) {
      expect({ pattern, metrics: sumOf(families, 'echo_server_requests_total', { pattern }) }).toEqual({
        pattern,
        metrics: stats.messages[pattern],
      });
    }
    for (const pattern of EVENT_PATTERNS) {
      expect({ pattern, metrics: valueOf(families, 'echo_server_events_total', { pattern }) }).toEqual({
        pattern,
        metrics: stats.events[pattern],
      });
    }
    for (const code of Object.values(ErrorCodes)) {
      expect({ code, metrics: valueOf(families, 'echo_server_errors_total', { code }) }).toEqual({
        code,
        metrics: stats.errors.byCode[code] ?? 0,
      });
    }
    for (const reason of SOCKET_REJECTION_REASONS) {
      expect({ reason, metrics: valueOf(families, 'echo_server_rejections_total', { reason }) }).toEqual({
        reason,
        metrics: stats.rejections.byReason[reason] ?? 0,
      });
    }
    for (const transport of ['tcp', 'text'] as const) {
      expect(valueOf(families, 'echo_server_connections_accepted_total', { transport })).toBe(
        stats.transports[transport].connections.total,
      );
    }
    expect(valueOf(families, 'echo_server_connections_refused_total')).toBe(stats.connections.rejected);
    expect(valueOf(families, 'echo_server_udp_datagrams_received_total')).toBe(stats.datagrams.received);
    for (const reason of UDP_DROP_REASONS) {
      expect({ reason, metrics: valueOf(families, 'echo_server_udp_datagrams_dropped_total', { reason }) }).toEqual({
        reason,
        metrics: stats.datagrams.droppedByReason[reason] ?? 0,
      });
    }
    expect(stats.messages.echo).toBeGreaterThan(0);
    expect(stats.errors.total).toBeGreaterThan(0);
  });
});

describe('GET /metrics of two servers in one process', () => {
  let servers: RunningEchoServer[];

  beforeAll(async () => {
    servers = await Promise.all([startTestServer({ LOG_LEVEL: 'fatal' }), startTestServer({ LOG_LEVEL: 'fatal' })]);
  });

  afterAll(async () => {
    await Promise.all((servers ?? []).map((server) => server.close()));
  });

  it('keeps their figures apart: each has its own registry', async () => {
    const pool = new ClientPool(servers[0]);
    try {
      await pool.create().echo({ text: 'only the first server' });
    } finally {
      await pool.closeAll();
    }

    const [first, second] = await Promise.all(
      servers.map(async (server) =>
        parsePrometheusTextFormat(await (await fetch(`http://127.0.0.1:${server.metricsPort}/metrics`)).text()),
      ),
    );

    expect(sumOf(first, 'echo_server_requests_total', { pattern: 'echo' })).toBe(1);
    expect(sumOf(second, 'echo_server_requests_total', { pattern: 'echo' })).toBe(0);
  });
});
