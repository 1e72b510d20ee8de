import { EchoClient, RpcClientError } from '@echo-pair/common';
import { once } from 'node:events';
import { createServer, type Server, type Socket } from 'node:net';
import type { RunningEchoServer } from '@echo-pair/echo-server';
import { freePort } from './support/loopback-port';
import { expectLogged, expectNotLogged } from './support/captured-logs';
import { startKillableServer, type KillableServer } from './support/killable-server';
import { startTestServer } from './support/test-server';

const RECONNECT = { initialDelayMs: 50, maxDelayMs: 200, factor: 2 };
/** Bounds the waits for the client to come back, in time. */
const RECOVERY_MS = 10_000;
/**
 * The servers of this file log at `log`, not `error` as startTestServer's do: a Nest application's
 * logger is also the one of the client in the same process (Logger.overrideLogger), and these tests
 * assert what the client logs (captured, not printed: test/support/quiet-environment.ts).
 */
const LOGGING = { LOG_LEVEL: 'log' };

async function rejection(promise: Promise<unknown>): Promise<RpcClientError> {
  try {
    await promise;
  } catch (error) {
    if (error instanceof RpcClientError) {
      return error;
    }
    throw error;
  }
  throw new Error('expected the call to fail');
}

/** Polls `check` every 20 ms until it is true; fails after `timeoutMs`. */
async function until(check: () => boolean, timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!check()) {
    if (Date.now() > deadline) {
      throw new Error(`not reached within ${timeoutMs} ms`);
    }
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}

describe('the typed client across a server stopped and started again on the same port', () => {
  let port: number;
  let server: RunningEchoServer | undefined;
  let client: EchoClient;

  beforeAll(async () => {
    port = await freePort();
    server = await startTestServer({ ECHO_PORT: String(port), ...LOGGING });
    client = EchoClient.create({ host: '127.0.0.1', port, timeoutMs: 5_000, reconnect: RECONNECT });
  });

  afterAll(async () => {
    await client?.close();
    await server?.close();
  });

  it('fails calls during the outage with typed errors, reconnects by itself with backoff, and serves again', async () => {
    expect((await client.echo({ text: 'before' })).text).toBe('before');

    await server!.close();
    server = undefined;
    await until(() => client.connectionInfo().state !== 'connected', RECOVERY_MS);

    const failFast = await rejection(client.echo({ text: 'now' }, { whenDisconnected: 'fail-fast' }));
    expect(failFast).toMatchObject({ code: 'CONNECTION_FAILED', retryable: true });
    const waitedInVain = await rejection(client.echo({ text: 'waits' }, { timeoutMs: 400 }));
    expect(waitedInVain).toMatchObject({ code: 'CONNECTION_FAILED', retryable: true });
    expect(waitedInVain.message).toMatch(/within 400 ms .*ECONNREFUSED/);
    // This one waits for the server to come back, within its timeout.
    const patient = client.echo({ text: 'patient' }, { timeoutMs: RECOVERY_MS });
    await until(() => client.connectionInfo().consecutiveFailures >= 3, RECOVERY_MS);

    server = await startTestServer({ ECHO_PORT: String(port), ...LOGGING });
    expect((await patient).text).toBe('patient');

    const info = client.connectionInfo();
    console.info(`reconnect: ${info.attempts} connect attempts, ${info.connects} connects, ${info.drops} drops`);
    expect(info).toMatchObject({ state: 'connected', connects: 2, drops: 1, consecutiveFailures: 0 });
    expect(info.attempts).toBeGreaterThanOrEqual(5); // the first connect, at least 3 refused, the one that succeeded
    expect((await client.echo({ text: 'after' })).text).toBe('after');
    expectLogged('warn', `connection to 127.0.0.1:${port} lost; reconnecting`, { context: 'EchoClient', times: 1 });
    expectLogged('log', new RegExp(`^reconnected to 127\\.0\\.0\\.1:${port} after \\d+ attempt\\(s\\)$`), { times: 1 });
  });
});

describe('the typed client when the server process is killed', () => {
  const servers: KillableServer[] = [];
  let client: EchoClient | undefined;

  afterAll(async () => {
    await client?.close();
    await Promise.all(servers.map((server) => server.kill()));
  });

  it('fails the calls in flight at once with CONNECTION_LOST, not a timeout, and comes back to a new process', async () => {
    const port = await freePort();
    servers.push(await startKillableServer(port));
    client = EchoClient.create({ host: '127.0.0.1', port, timeoutMs: 20_000, reconnect: RECONNECT });
    const stats = JSON.parse((await client.command({ name: 'stats' })).output) as { messages: Record<string, number> };
    expect(stats.messages.command).toBe(1);

    const inFlight = client.command({ name: 'sleep', args: ['5000'] });
    inFlight.catch(() => undefined);
    await new Promise((resolve) => setTimeout(resolve, 200)); // the request has reached the server
    await servers[0].kill('SIGKILL');

    // A 20 s timeout and a 5 s sleep: only the dropped connection can end this call now.
    const lost = await rejection(inFlight);
    expect(lost).toMatchObject({ code: 'CONNECTION_LOST', retryable: true, pattern: 'command' });

    servers.push(await startKillableServer(port));
    await until(() => client!.connectionInfo().state === 'connected', RECOVERY_MS);
    expect((await client.echo({ text: 'new process' })).text).toBe('new process');
    expect(client.connectionInfo()).toMatchObject({ drops: 1, connects: 2 });
    expectLogged('warn', `connection to 127.0.0.1:${port} lost; reconnecting`, { context: 'EchoClient', times: 1 });
    expectLogged('log', `reconnected to 127.0.0.1:${port}`, { times: 1 });
  });
});

/** A plain listener on 127.0.0.1 that handles each connection it accepts with `onConnection`, and keeps them until `stop()`. */
async function startListener(
  port: number,
  onConnection: (socket: Socket) => void,
): Promise<{ server: Server; sockets: Socket[]; stop(): Promise<void> }> {
  const sockets: Socket[] = [];
  const server = createServer((socket) => {
    sockets.push(socket);
    socket.on('error', () => undefined); // the client may reset it
    onConnection(socket);
  });
  server.listen(port, '127.0.0.1');
  await once(server, 'listening');
  return {
    server,
    sockets,
    stop: async () => {
      sockets.forEach((socket) => socket.destroy());
      if (server.listening) {
        server.close();
        await once(server, 'close');
      }
    },
  };
}

describe('the typed client on a connection that went silent (no reply, no FIN, no RST)', () => {
  let silent: Awaited<ReturnType<typeof startListener>> | undefined;
  let server: RunningEchoServer | undefined;
  let client: EchoClient | undefined;

  afterAll(async () => {
    await client?.close();
    await silent?.stop();
    await server?.close();
  });

  it('destroys it after deadAfterTimeouts timeouts in a row, fails the call in flight with CONNECTION_LOST, and reconnects', async () => {
    const port = await freePort();
    // Accepts, then reads and never answers nor closes: a peer whose path died without a word.
    silent = await startListener(port, (socket) => socket.resume());
    client = EchoClient.create({ host: '127.0.0.1', port, timeoutMs: 5_000, deadAfterTimeouts: 3, reconnect: RECONNECT });
    await client.connect();
    // The silent peer stops listening (its connection stays open) and a real server takes the port.
    silent.server.close();
    server = await startTestServer({ ECHO_PORT: String(port), ...LOGGING });

    const inFlight = client.echo({ text: 'in flight' }, { timeoutMs: RECOVERY_MS });
    inFlight.catch(() => undefined);
    for (let n = 1; n <= 3; n += 1) {
      expect(await rejection(client.echo({ text: `unanswered ${n}` }, { timeoutMs: 300 }))).toMatchObject({ code: 'TIMEOUT' });
    }

    // Only the destroyed connection can end this call before its 10 s timeout.
    expect(await rejection(inFlight)).toMatchObject({ code: 'CONNECTION_LOST', retryable: true });
    expect((await client.echo({ text: 'real server' }, { timeoutMs: RECOVERY_MS })).text).toBe('real server');
    expect(client.connectionInfo()).toMatchObject({
      state: 'connected',
      connects: 2,
      drops: 1,
      deadConnections: 1,
      consecutiveTimeouts: 0,
    });
    await until(() => silent!.sockets[0].destroyed || silent!.sockets[0].readableEnded, RECOVERY_MS);
    // Declared dead, not lost: one warning, which says why.
    expectLogged('warn', `connection to 127.0.0.1:${port} considered dead after 3 timeouts; reconnecting`, { times: 1 });
    expectNotLogged('warn', 'lost');
  });
});

describe('the typed client against a listener that accepts and closes every connection at once', () => {
  const WINDOW_MS = 2_000;
  const BACKOFF = { initialDelayMs: 50, maxDelayMs: 5_000, factor: 2, healthyAfterMs: 1_000 };
  let listener: Awaited<ReturnType<typeof startListener>> | undefined;
  let client: EchoClient | undefined;

  afterAll(async () => {
    await client?.close();
    await listener?.stop();
  });

  it('backs off further after each connection dropped before it proved healthy', async () => {
    const port = await freePort();
    listener = await startListener(port, (socket) => socket.destroy());
    client = EchoClient.create({ host: '127.0.0.1', port, timeoutMs: 1_000, reconnect: BACKOFF });
    await client.connect().catch(() => undefined); // the reset may come before or after the connect

    await new Promise((resolve) => setTimeout(resolve, WINDOW_MS));
    const accepted = listener.sockets.length;
    const info = client.connectionInfo();
    console.info(`accept-and-close: ${accepted} connections in ${WINDOW_MS} ms (${info.attempts} attempts, ${info.connects} connects)`);

    // Waits are at least half of 100, 200, 400, 800, 1600 ms: 6 connects fit in 2 s at most,
    // where a backoff reset by every connect (at most 50 ms each) would make 40 or more.
    expect(accepted).toBeGreaterThanOrEqual(3);
    expect(accepted).toBeLessThanOrEqual(7);
    // Each connection the listener closed is a drop the client reports.
    const drops = expectLogged('warn', `connection to 127.0.0.1:${port} lost; reconnecting`);
    expect(drops.length).toBeGreaterThanOrEqual(accepted - 1);
  });
});
