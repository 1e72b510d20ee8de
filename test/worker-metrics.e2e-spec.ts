import type { RunningEchoServer } from '@echo-pair/echo-server';
import { createRequire } from 'node:module';
import { expectPassingDemo } from './support/demo-transcript';
import { pollUntil } from './support/line-peer';
import { holdPort } from './support/loopback-port';
import { compiled, runNode, startNode, type RunningProcess } from './support/run-process';
import { startTestServer } from './support/test-server';

/** A sample as parse-prometheus-text-format returns it (it ships no types); values are strings. */
interface ParsedFamily {
  name: string;
  type: 'COUNTER' | 'GAUGE' | 'HISTOGRAM' | 'SUMMARY' | 'UNTYPED';
  metrics: Array<{ labels?: Record<string, string>; value?: string; count?: string; buckets?: Record<string, string> }>;
}

const parsePrometheusTextFormat = createRequire(__filename)('parse-prometheus-text-format') as (text: string) => ParsedFamily[];

const PROMETHEUS_TEXT = 'text/plain; version=0.0.4; charset=utf-8';
const WORKER = 'services/client-worker/dist/main.js';

/** One scrape of the worker's `/metrics`, parsed: every family by name. */
async function scrape(port: number): Promise<Map<string, ParsedFamily>> {
  const response = await fetch(`http://127.0.0.1:${port}/metrics`);
  expect(response.status).toBe(200);
  expect(response.headers.get('content-type')).toBe(PROMETHEUS_TEXT);
  return new Map(parsePrometheusTextFormat(await response.text()).map((family) => [family.name, family]));
}

/** The value of the sample of `family` whose labels include `labels`; undefined when there is none. */
function valueOf(families: Map<string, ParsedFamily>, family: string, labels: Record<string, string>): number | undefined {
  const sample = families
    .get(family)
    ?.metrics.find((candidate) => Object.entries(labels).every(([label, value]) => candidate.labels?.[label] === value));
  return sample?.value === undefined ? undefined : Number(sample.value);
}

/**
 * Issue 13 §1, the worker's side: `GET /metrics` on its own small HTTP port, with calls by pattern
 * and outcome, their latency, its connections to each server address by state, and reconnects,
 * scraped from the compiled worker while it runs its load against a real server.
 */
describe('client-worker metrics', () => {
  let server: RunningEchoServer | undefined;

  afterEach(async () => {
    await server?.close();
    server = undefined;
  });

  it('serves calls, latency, connection states and reconnects while it runs, and counts a restart of the server as reconnects', async () => {
    server = await startTestServer();
    const port = server.port;
    const address = `127.0.0.1:${port}`;
    const worker: RunningProcess = startNode([compiled(WORKER), 'load'], {
      env: {
        ECHO_SERVER_HOST: '127.0.0.1',
        ECHO_SERVER_PORT: String(port),
        METRICS_PORT: '0',
        LOAD_REQUESTS: '1000000',
        LOAD_CONCURRENCY: '4',
        LOAD_CONNECTIONS: '2',
        LOAD_MAX_SECONDS: '8',
        RECONNECT_BACKOFF_MS: '50',
        RECONNECT_BACKOFF_MAX_MS: '200',
      },
      timeoutMs: 60_000,
    });
    const announced = await worker.waitForOutput(/metrics on http:\/\/127\.0\.0\.1:\d+\/metrics/, 20_000);
    const metricsPort = Number(/127\.0\.0\.1:(\d+)\/metrics/.exec(announced)![1]);

    // Running: its echoes counted, its two connections (the load's two clients) connected.
    let families = await pollUntil(
      () => scrape(metricsPort),
      (scraped) => (valueOf(scraped, 'echo_worker_calls_total', { pattern: 'echo', outcome: 'ok' }) ?? 0) > 100,
      10_000,
    );
    expect(valueOf(families, 'echo_worker_calls_total', { pattern: 'hello', outcome: 'ok' })).toBeGreaterThanOrEqual(1);
    expect(families.get('echo_worker_calls_total')?.type).toBe('COUNTER');
    expect(families.get('echo_worker_call_duration_seconds')?.type).toBe('HISTOGRAM');
    expect(valueOf(families, 'echo_worker_connections', { address, state: 'connected' })).toBe(2);
    expect(valueOf(families, 'echo_worker_connections', { address, state: 'reconnecting' })).toBe(0);
    expect(valueOf(families, 'echo_worker_reconnects_total', { address })).toBe(0);
    expect(families.get('echo_worker_connections')!.metrics.map(({ labels }) => labels?.address)).toEqual(
      expect.arrayContaining([address]),
    );
    expect(new Set(families.get('echo_worker_connections')!.metrics.map(({ labels }) => labels?.address))).toEqual(new Set([address]));
    expect(families.has('process_resident_memory_bytes')).toBe(true);
    expect(families.has('nodejs_eventloop_lag_seconds')).toBe(true);

    // The server goes away: calls fail with transport codes, the connections wait to reconnect.
    await server.close();
    server = undefined;
    families = await pollUntil(
      () => scrape(metricsPort),
      (scraped) => (valueOf(scraped, 'echo_worker_connections', { address, state: 'connected' }) ?? 0) === 0,
      10_000,
    );
    const failed = families
      .get('echo_worker_calls_total')!
      .metrics.filter(({ labels }) => labels?.outcome !== 'ok')
      .map(({ labels }) => labels?.outcome);
    expect(failed.length).toBeGreaterThan(0);
    expect(failed.every((outcome) => ['CONNECTION_LOST', 'CONNECTION_FAILED', 'TIMEOUT'].includes(outcome!))).toBe(true);

    // Back on the same port: each connection opened again is a reconnect.
    server = await startTestServer({ ECHO_PORT: String(port) });
    families = await pollUntil(
      () => scrape(metricsPort),
      (scraped) => valueOf(scraped, 'echo_worker_connections', { address, state: 'connected' }) === 2,
      15_000,
    );
    expect(valueOf(families, 'echo_worker_reconnects_total', { address })).toBeGreaterThanOrEqual(2);

    const result = await worker.result;
    expect(result.timedOut).toBe(false);
    // Once the worker has ended, nothing listens there any more.
    await expect(fetch(`http://127.0.0.1:${metricsPort}/metrics`)).rejects.toThrow();
  });

  it('serves nothing with METRICS_ENABLED=false, and runs as before', async () => {
    server = await startTestServer();
    const result = await runNode([compiled(WORKER), 'demo'], {
      env: { ECHO_SERVER_HOST: '127.0.0.1', ECHO_SERVER_PORT: String(server.port), METRICS_ENABLED: 'false' },
      timeoutMs: 60_000,
    });

    expectPassingDemo(result);
    expect(result.stderr).not.toMatch(/metrics/i);
  });

  it('warns and carries on when its metrics port is taken: the calls matter more', async () => {
    server = await startTestServer();
    const taken = await holdPort();
    try {
      const result = await runNode([compiled(WORKER), 'demo'], {
        env: { ECHO_SERVER_HOST: '127.0.0.1', ECHO_SERVER_PORT: String(server.port), METRICS_PORT: String(taken.port) },
        timeoutMs: 60_000,
      });

      expectPassingDemo(result);
      expect(result.stderr).toMatch(
        new RegExp(`WARN \\[Metrics\\] metrics not served: cannot listen on 127\\.0\\.0\\.1:${taken.port} \\(.*EADDRINUSE`),
      );
    } finally {
      await taken.release();
    }
  });
});
