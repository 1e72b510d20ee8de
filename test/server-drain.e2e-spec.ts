import { clientTlsOptions, EchoClient, readTlsFiles, type RpcErrorEnvelope } from '@echo-pair/common';
import type { RunningEchoServer } from '@echo-pair/echo-server';
import { once } from 'node:events';
import { connect } from 'node:net';
import { rejection } from './support/client-calls';
import { frameOf, RawPeer } from './support/raw-peer';
import { compiled, expectExitCode, startNode, type RunningProcess } from './support/run-process';
import { startTestServer } from './support/test-server';
import { createTlsFixtures, serverTlsEnv, type TlsFixtures } from './support/tls-fixtures';

const SERVER = 'services/echo-server/dist/main.js';
const SLEEP_MS = 2_000;
const CALL_TIMEOUT_MS = 10_000;
/** A deadline far above SLEEP_MS: a drain that takes it has not noticed the sleep ending. */
const LONG_DEADLINE_MS = 20_000;

const SHUTTING_DOWN: RpcErrorEnvelope<'SHUTTING_DOWN'> = {
  code: 'SHUTTING_DOWN',
  message: expect.stringContaining('shutting down') as string,
  details: { retryable: true },
};

/** Whether a new connection to `port` is refused (nothing accepts any more); bounded by `timeoutMs`. */
async function refusesConnections(port: number, timeoutMs = 5_000): Promise<boolean> {
  const socket = connect({ host: '127.0.0.1', port });
  const timer = setTimeout(() => socket.destroy(new Error('connect timed out')), timeoutMs);
  try {
    const [error] = (await Promise.race([once(socket, 'error'), once(socket, 'connect').then(() => [undefined])])) as [
      NodeJS.ErrnoException | undefined,
    ];
    return error?.code === 'ECONNREFUSED';
  } finally {
    clearTimeout(timer);
    socket.destroy();
  }
}

/**
 * Sends `sleep SLEEP_MS`, then an echo on the same connection: once the echo has replied,
 * the server has dispatched the sleep (frames of one connection are read in order).
 */
async function sleepInFlight(client: EchoClient): Promise<{ sleep: Promise<string> }> {
  const sleep = client.command({ name: 'sleep', args: [String(SLEEP_MS)] }).then(({ output }) => output);
  sleep.catch(() => undefined); // awaited by the test
  await client.echo({ text: 'after the sleep was sent' });
  return { sleep };
}

describe('draining the server in process', () => {
  let server: RunningEchoServer;
  let client: EchoClient;

  beforeEach(async () => {
    server = await startTestServer();
    client = EchoClient.create({ host: server.host, port: server.port, timeoutMs: CALL_TIMEOUT_MS });
  });

  afterEach(async () => {
    await client.close();
    await server.close();
  });

  it('lets a sleep in flight reply, refuses new requests with SHUTTING_DOWN and new connections, then closes', async () => {
    const { sleep } = await sleepInFlight(client);

    const drained = server.drain(LONG_DEADLINE_MS);
    const refused = await rejection(client.echo({ text: 'sent during the drain' }));

    expect(refused.code).toBe('SHUTTING_DOWN');
    expect(refused.envelope).toEqual(SHUTTING_DOWN);
    expect(await refusesConnections(server.port)).toBe(true);
    await expect(sleep).resolves.toBe(`slept ${SLEEP_MS} ms`);
    await expect(drained).resolves.toEqual({ drained: true, inFlight: 0, connections: 1, elapsedMs: expect.any(Number) as number });
  });

  it('writes the last reply, then a FIN: a raw peer reads the reply and sees the connection end, not reset', async () => {
    const peer = await RawPeer.connect(server.port);
    await peer.write(frameOf({ pattern: 'command', data: { name: 'sleep', args: ['500'] }, id: 'sleep-1' }));
    await peer.write(frameOf({ pattern: 'echo', data: { text: 'marker' }, id: 'echo-1' }));
    expect((await peer.waitForFrames(1, CALL_TIMEOUT_MS)).map((frame) => frame.id)).toEqual(['echo-1']);

    const result = await server.drain(LONG_DEADLINE_MS);

    expect(result).toMatchObject({ drained: true, inFlight: 0 });
    expect(await peer.closesWithin(5_000)).toBe(true);
    expect(peer.frames()).toEqual([
      expect.objectContaining({ id: 'echo-1' }),
      expect.objectContaining({ id: 'sleep-1', response: expect.objectContaining({ output: 'slept 500 ms' }) as unknown }),
    ]);
    expect(peer.errors).toEqual([]);
  });

  it('closes the connections when the deadline passes with a request still in flight, and says so', async () => {
    const { sleep } = await sleepInFlight(client);

    const result = await server.drain(100);

    expect(result).toMatchObject({ drained: false, inFlight: 1, connections: 1 });
    const lost = await rejection(sleep);
    expect(lost.code).toMatch(/^CONNECTION_(LOST|CLOSED)$/);
  });
});

describe('draining a mutual-TLS server in process', () => {
  let fixtures: TlsFixtures;
  let server: RunningEchoServer;
  let client: EchoClient;

  beforeAll(async () => {
    fixtures = await createTlsFixtures();
    server = await startTestServer(serverTlsEnv(fixtures.trusted));
    const { caCert, clientCert, clientKey } = fixtures.trusted;
    client = EchoClient.create({
      host: server.host,
      port: server.port,
      timeoutMs: CALL_TIMEOUT_MS,
      transport: { tlsOptions: clientTlsOptions(readTlsFiles({ caFile: caCert, certFile: clientCert, keyFile: clientKey })) },
    });
  });

  afterAll(async () => {
    await client?.close();
    await server?.close();
    await fixtures?.remove();
  });

  it('lets a sleep in flight reply over TLS, refuses a new request with SHUTTING_DOWN, then closes', async () => {
    const { sleep } = await sleepInFlight(client);

    const drained = server.drain(LONG_DEADLINE_MS);
    const refused = await rejection(client.echo({ text: 'sent during the drain' }));

    expect(refused.envelope).toEqual(SHUTTING_DOWN);
    await expect(sleep).resolves.toBe(`slept ${SLEEP_MS} ms`);
    await expect(drained).resolves.toMatchObject({ drained: true, inFlight: 0, connections: 1 });
  });
});

describe('the server process on SIGTERM', () => {
  /** Starts dist/main.js on a free port; returns it with its pid and port, read from its JSON log. */
  async function startServerProcess(): Promise<{ server: RunningProcess; pid: number; port: number }> {
    const server = startNode([compiled(SERVER)], {
      env: { ECHO_HOST: '127.0.0.1', ECHO_PORT: '0', TEXT_PORT: '0', UDP_PORT: '0', METRICS_PORT: '0', LOG_FORMAT: 'json' },
      timeoutMs: 60_000,
    });
    const line = await server.waitForOutput(/"listening on 127\.0\.0\.1:\d+ /, 30_000);
    const { pid, message } = JSON.parse(line) as { pid: number; message: string };
    return { server, pid, port: Number(/:(\d+) /.exec(message)?.[1]) };
  }

  it('lets a sleep in flight reply, then exits 0', async () => {
    const { server, pid, port } = await startServerProcess();
    const client = EchoClient.create({ host: '127.0.0.1', port, timeoutMs: CALL_TIMEOUT_MS });
    try {
      const { sleep } = await sleepInFlight(client);

      process.kill(pid, 'SIGTERM');

      await expect(sleep).resolves.toBe(`slept ${SLEEP_MS} ms`);
      const result = await server.result;
      expectExitCode(result, 0);
      expect(result.stdout).toMatch(/"message":"draining: no new connections; 1 message\(s\) in flight on 1 connection\(s\)/);
      expect(result.stdout).toMatch(/"message":"drained in \d+ ms"/);
      expect(result.stdout).toMatch(/"message":"exiting with code 0"/);
    } finally {
      await client.close();
    }
  });

  it('exits 1 at once on a second SIGTERM during the drain', async () => {
    const { server, pid, port } = await startServerProcess();
    const client = EchoClient.create({ host: '127.0.0.1', port, timeoutMs: CALL_TIMEOUT_MS });
    try {
      const { sleep } = await sleepInFlight(client);
      process.kill(pid, 'SIGTERM');
      await server.waitForOutput(/"message":"draining: /, 10_000);

      process.kill(pid, 'SIGTERM');

      const result = await server.result;
      expectExitCode(result, 1);
      expect(result.stdout).toMatch(/"message":"SIGTERM again during the drain: exiting at once \(exit code 1\)"/);
      expect((await rejection(sleep)).code).toMatch(/^CONNECTION_(LOST|CLOSED)$/);
    } finally {
      await client.close();
    }
  });
});
