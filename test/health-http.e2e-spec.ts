import { EchoClient } from '@echo-pair/common';
import type { RunningEchoServer } from '@echo-pair/echo-server';
import { once } from 'node:events';
import { createRequire } from 'node:module';
import { createServer, type AddressInfo } from 'node:net';
import { readStats } from './support/client-calls';
import { pollUntil } from './support/line-peer';
import { freePort, holdPort } from './support/loopback-port';
import { startTestServer } from './support/test-server';

const SLEEP_MS = 2_000;
const CALL_TIMEOUT_MS = 10_000;
/** Far above SLEEP_MS: a drain that takes it has not noticed the sleep ending. */
const LONG_DEADLINE_MS = 20_000;

interface HttpAnswer {
  status: number;
  headers: Headers;
  body: unknown;
}

async function get(port: number, path: string, method = 'GET'): Promise<HttpAnswer> {
  const response = await fetch(`http://127.0.0.1:${port}${path}`, { method });
  const text = await response.text();
  const isJson = response.headers.get('content-type')?.startsWith('application/json') ?? false;
  return { status: response.status, headers: response.headers, body: isJson ? (JSON.parse(text) as unknown) : text };
}

/** What parse-prometheus-text-format returns of a gauge family (the package ships no types). */
interface ParsedFamily {
  name: string;
  type: string;
  metrics: Array<{ labels?: Record<string, string>; value?: string }>;
}

const parsePrometheusTextFormat = createRequire(__filename)('parse-prometheus-text-format') as (text: string) => ParsedFamily[];

/** The value of a gauge without labels, from the exposition parsed. */
function gauge(exposition: string, name: string): number | undefined {
  const family = parsePrometheusTextFormat(exposition).find((candidate) => candidate.name === name);
  expect(family?.type).toBe('GAUGE');
  return family?.metrics.length === 1 ? Number(family.metrics[0].value) : undefined;
}

describe('HTTP probes: /healthz and /readyz', () => {
  let server: RunningEchoServer;
  let client: EchoClient;

  beforeEach(async () => {
    server = await startTestServer({ LOG_LEVEL: 'fatal' });
    client = EchoClient.create({ host: server.host, port: server.port, timeoutMs: CALL_TIMEOUT_MS });
  });

  afterEach(async () => {
    await client.close();
    await server.close();
  });

  it('answers /healthz 200 and /readyz 200 with every transport listening, as terminus results that are not cached', async () => {
    const health = await get(server.metricsPort!, '/healthz');
    const ready = await get(server.metricsPort!, '/readyz');

    expect(health.status).toBe(200);
    expect(health.body).toEqual({
      status: 'ok',
      info: { process: { status: 'up', uptimeSeconds: expect.any(Number) as number } },
      error: {},
      details: { process: { status: 'up', uptimeSeconds: expect.any(Number) as number } },
    });
    expect(ready.status).toBe(200);
    expect(ready.body).toEqual({
      status: 'ok',
      info: { transports: { status: 'up', draining: false, tcp: 'listening', text: 'listening', udp: 'listening' } },
      error: {},
      details: { transports: { status: 'up', draining: false, tcp: 'listening', text: 'listening', udp: 'listening' } },
    });
    expect(ready.headers.get('cache-control')).toBe('no-cache, no-store, must-revalidate');
  });

  it('listens on ECHO_HOST when METRICS_HOST is not set', () => {
    const { address } = (server.app.getHttpServer() as { address(): AddressInfo }).address();

    expect(address).toBe('127.0.0.1');
  });

  it('turns /readyz 503 during the drain while a request in flight still completes; /healthz stays 200', async () => {
    const sleep = client.command({ name: 'sleep', args: [String(SLEEP_MS)] }).then(({ output }) => output);
    sleep.catch(() => undefined); // awaited below
    await client.echo({ text: 'the sleep is dispatched once this replies' });

    const drained = server.drain(LONG_DEADLINE_MS);
    const ready = await get(server.metricsPort!, '/readyz');
    const health = await get(server.metricsPort!, '/healthz');
    const exposition = (await get(server.metricsPort!, '/metrics')).body as string;
    let sleepSettled = false;
    void sleep.finally(() => (sleepSettled = true));

    expect(ready.status).toBe(503);
    expect(ready.body).toMatchObject({
      status: 'error',
      error: { transports: { status: 'down', draining: true, udp: 'listening' } },
    });
    expect(health.status).toBe(200);
    expect(gauge(exposition, 'echo_server_draining')).toBe(1);
    expect(gauge(exposition, 'echo_server_messages_in_flight')).toBe(1);
    expect(sleepSettled).toBe(false); // all of this happened while the request was in flight
    await expect(sleep).resolves.toBe(`slept ${SLEEP_MS} ms`);
    await expect(drained).resolves.toMatchObject({ drained: true, inFlight: 0 });
  });

  it("answers HTTP errors as HTTP (Nest's own 404), not as an RPC envelope, and counts none in stats", async () => {
    const before = await readStats(client);

    const unknown = await get(server.metricsPort!, '/nope');
    const wrongMethod = await get(server.metricsPort!, '/readyz', 'POST');

    expect(unknown).toMatchObject({ status: 404, body: { statusCode: 404, message: 'Cannot GET /nope', error: 'Not Found' } });
    expect(wrongMethod).toMatchObject({ status: 404, body: { statusCode: 404, message: 'Cannot POST /readyz' } });
    expect((await readStats(client)).errors).toEqual(before.errors);
  });
});

describe('the HTTP side port: settings', () => {
  it('is off with METRICS_ENABLED=false: no HTTP listener, the transports serve as before', async () => {
    const server = await startTestServer({ METRICS_ENABLED: 'false', LOG_LEVEL: 'fatal' });
    const client = EchoClient.create({ host: server.host, port: server.port, timeoutMs: CALL_TIMEOUT_MS });
    try {
      expect(server.metricsPort).toBeUndefined();
      expect((server.app.getHttpServer() as { listening: boolean }).listening).toBe(false);
      await expect(client.echo({ text: 'still served' })).resolves.toMatchObject({ text: 'still served' });
      await expect(client.command({ name: 'nope' })).rejects.toMatchObject({ code: 'UNKNOWN_COMMAND' });
    } finally {
      await client.close();
      await server.close();
    }
  });

  it('listens on METRICS_HOST and METRICS_PORT when set', async () => {
    const { server, port } = await startOnAFreeMetricsPort();
    try {
      expect(server.metricsPort).toBe(port);
      expect((await get(port, '/healthz')).status).toBe(200);
    } finally {
      await server.close();
    }
  });

  it('fails to start, saying why, when METRICS_PORT is taken, and leaves no transport listening', async () => {
    const held = await holdPort();
    const echoPort = await freePort();
    try {
      await expect(startTestServer({ ECHO_PORT: String(echoPort), METRICS_PORT: String(held.port), LOG_LEVEL: 'fatal' })).rejects.toThrow(
        new RegExp(`cannot listen on the metrics port 127\\.0\\.0\\.1:${held.port}: .*EADDRINUSE`),
      );
      // The server closed what it had started: its TCP port is free again.
      const probe = createServer().listen(echoPort, '127.0.0.1');
      await once(probe, 'listening');
      probe.close();
      await once(probe, 'close');
    } finally {
      await held.release();
    }
  });

  it('closes the side port with the server', async () => {
    const server = await startTestServer({ LOG_LEVEL: 'fatal' });
    const port = server.metricsPort!;
    expect((await get(port, '/healthz')).status).toBe(200);

    await server.close();

    const refused = await pollUntil(
      () =>
        fetch(`http://127.0.0.1:${port}/healthz`).then(
          () => false,
          () => true,
        ),
      (isRefused) => isRefused,
    );
    expect(refused).toBe(true);
  });
});

/**
 * A server on a METRICS_PORT that was free a moment before: a port found free can be taken by
 * another suite's server before this one binds it, so a few more ports are tried on EADDRINUSE.
 */
async function startOnAFreeMetricsPort(attempts = 5): Promise<{ server: RunningEchoServer; port: number }> {
  for (let attempt = 1; ; attempt += 1) {
    const port = await freePort();
    try {
      return { server: await startTestServer({ METRICS_HOST: '127.0.0.1', METRICS_PORT: String(port), LOG_LEVEL: 'fatal' }), port };
    } catch (error) {
      if (attempt >= attempts || !String(error).includes('EADDRINUSE')) {
        throw error;
      }
    }
  }
}
