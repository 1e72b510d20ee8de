import { createHash } from 'node:crypto';
import {
  buildMixedScriptText,
  EVENT_PATTERNS,
  REQUEST_PATTERNS,
  WireLimits,
  type CommandRequest,
  type EchoRequest,
  type RpcErrorEnvelope,
  type ServerStats,
} from '@echo-pair/common';
import type { RunningEchoServer } from '@echo-pair/echo-server';
import type { Server } from '@nestjs/microservices';
import { errorsAdded, readStats, rejection, statsWhen } from './support/client-calls';
import { clientsOnFastPath, FAST_PATH_MODES } from './support/fast-path-modes';
import { ClientPool, startTestServer } from './support/test-server';

/** Every pattern through the typed client over real TCP on 127.0.0.1, with the fast paths and with stock Nest's (ECHO_FAST_PATH). */
describe.each(FAST_PATH_MODES)('wire contract over TCP ($mode)', ({ ECHO_FAST_PATH }) => {
  let server: RunningEchoServer;
  let pool: ClientPool;

  clientsOnFastPath(ECHO_FAST_PATH);

  beforeAll(async () => {
    server = await startTestServer({ SLEEP_MAX_MS: '2000', ECHO_FAST_PATH });
    pool = new ClientPool(server);
  });

  afterAll(async () => {
    await pool?.closeAll();
    await server?.close();
  });

  /** The stats, read over a connection of its own. */
  function stats(): Promise<ServerStats> {
    return readStats(pool.create());
  }

  it('runs the path ECHO_FAST_PATH names, on the server and in its clients', () => {
    const tcp = server.app.getMicroservices()[0].getTransportServer() as unknown as { fastPath: boolean };
    expect(tcp.fastPath).toBe(ECHO_FAST_PATH === 'true');
    expect(process.env.ECHO_FAST_PATH).toBe(ECHO_FAST_PATH);
  });

  it('greets with the patterns, commands and limits it serves', async () => {
    const hello = await pool.create().hello({ client: 'e2e' });
    expect(hello.patterns).toEqual({ requests: [...REQUEST_PATTERNS], events: [...EVENT_PATTERNS] });
    expect(hello.commands.map((command) => command.name)).toEqual([
      'help',
      'lower',
      'reverse',
      'sleep',
      'stats',
      'time',
      'upper',
      'uptime',
    ]);
    expect(hello.limits).toEqual({
      ...WireLimits,
      maxMessageLength: 8 * 1024 * 1024,
      incompleteMessageTimeoutMs: 10_000,
      sleepMaxMs: 2000,
    });
    expect(hello.welcome).toContain('Welcome to echo-server');
  });

  it.each([
    ['ASCII', 'Hello, world!', 13],
    ['Chinese', '你好，世界', 15],
    ['emoji', '👨‍👩‍👧‍👦👍🏽', 33],
    ['Arabic (RTL)', 'مرحبا بالعالم', 25],
    ['empty', '', 0],
  ])('echoes %s text unchanged with its UTF-8 size', async (_label, text, bytes) => {
    const reply = await pool.create().echo({ text });
    expect(reply.text).toBe(text);
    expect(reply.bytes).toBe(bytes);
    expect(reply.codeUnits).toBe(text.length);
    expect(Number.isNaN(Date.parse(reply.receivedAt))).toBe(false);
  });

  it('echoes 1 MiB of mixed-script text byte-identical', async () => {
    const text = buildMixedScriptText(1024 * 1024);
    const reply = await pool.create().echo({ text });
    expect(reply.bytes).toBe(Buffer.byteLength(text, 'utf8'));
    expect(reply.bytes).toBeGreaterThanOrEqual(1024 * 1024);
    const digest = (value: string) => createHash('sha256').update(value, 'utf8').digest('hex');
    expect(digest(reply.text)).toBe(digest(text));
    expect(reply.text === text).toBe(true);
  });

  it.each([
    ['upper', ['hi'], 'HI'],
    ['upper', ['hello', 'wörld'], 'HELLO WÖRLD'],
    ['lower', ['ÉCHO', 'Server'], 'écho server'],
    ['reverse', ['abc 你好'], '好你 cba'],
    ['reverse', ['a👨‍👩‍👧‍👦b'], 'b👨‍👩‍👧‍👦a'],
    ['sleep', ['20'], 'slept 20 ms'],
  ])('runs the command %s %j', async (name, args, output) => {
    const reply = await pool.create().command({ name, args });
    expect(reply).toMatchObject({ name, args, output });
    expect(reply.durationMs).toBeGreaterThanOrEqual(0);
  });

  it('runs time, uptime and help', async () => {
    const client = pool.create();
    const time = await client.command({ name: 'time' });
    expect(Math.abs(Date.parse(time.output) - Date.now())).toBeLessThan(60_000);
    expect((await client.command({ name: 'uptime' })).output).toMatch(/^up \d+d \d\d:\d\d:\d\d \(\d+\.\d{3} s\)$/);
    const help = (await client.command({ name: 'help' })).output.split('\n');
    expect(help).toHaveLength(8);
    expect((await client.command({ name: 'help', args: ['sleep'] })).output).toMatch(/^sleep <ms>\s+waits/);
  });

  it('counts a fire-and-forget note in stats', async () => {
    const reader = pool.create();
    const before = await readStats(reader);
    await pool.create().note({ text: 'remember the milk', author: 'e2e' });
    const after = await statsWhen(reader, (current) => current.events.note > before.events.note);
    expect(after.events.note).toBe(before.events.note + 1);
    expect(after.errors.total).toBe(before.errors.total);
  });

  it('replies to an invalid request with a VALIDATION_FAILED envelope naming each bad field', async () => {
    const client = pool.create();
    const error = await rejection(client.send('echo', { text: 42, extra: true } as unknown as EchoRequest));
    expect(error.code).toBe('VALIDATION_FAILED');
    const envelope = error.envelope as RpcErrorEnvelope<'VALIDATION_FAILED'>;
    expect(envelope.details.violations.map((violation) => violation.field).sort()).toEqual(['extra', 'text']);
    expect(envelope.details.violations.find((violation) => violation.field === 'text')?.constraints).toHaveProperty('isString');
    expect((await client.echo({ text: 'still usable' })).text).toBe('still usable');
  });

  it('replies to an unknown command with the known ones, and never runs a shell', async () => {
    const error = await rejection(pool.create().command({ name: 'rm', args: ['-rf', '/'] }));
    expect(error.envelope).toEqual({
      code: 'UNKNOWN_COMMAND',
      message: expect.stringContaining('unknown command "rm"') as string,
      details: { command: 'rm', knownCommands: ['help', 'lower', 'reverse', 'sleep', 'stats', 'time', 'upper', 'uptime'] },
    });
  });

  it.each([
    [{ name: 'upper' }, 'upper <text...>'],
    [{ name: 'sleep', args: ['soon'] }, 'sleep <ms>'],
    [{ name: 'sleep', args: ['999999'] }, 'sleep <ms>'],
    [{ name: 'time', args: ['now'] }, 'time'],
  ])('rejects bad arguments %j with INVALID_COMMAND_ARGS', async (request, usage) => {
    const error = await rejection(pool.create().command(request));
    expect(error.code).toBe('INVALID_COMMAND_ARGS');
    expect(error.envelope?.details).toEqual({ command: request.name, usage });
  });

  it("answers an unknown pattern with Nest's own error, mapped to UNKNOWN_PATTERN", async () => {
    const client = pool.create();
    const error = await rejection(client.send('launch-missiles' as 'echo', { text: 'x' }));
    expect(error.code).toBe('UNKNOWN_PATTERN');
    expect(error.message).toContain('There is no matching message handler');
    expect((await client.echo({ text: 'after unknown pattern' })).text).toBe('after unknown pattern');
  });

  it('times out a call that outlives its timeout, without breaking the connection', async () => {
    const client = pool.create();
    const error = await rejection(client.command({ name: 'sleep', args: ['1000'] }, { timeoutMs: 100 }));
    expect(error.code).toBe('TIMEOUT');
    expect((await client.echo({ text: 'after timeout' })).text).toBe('after timeout');
  });

  it('serves many messages on one connection', async () => {
    const before = await stats();
    const client = pool.create();
    for (let index = 0; index < 500; index += 1) {
      const text = `message ${index} ✓`;
      expect((await client.echo({ text })).text).toBe(text);
    }
    const after = await stats();
    expect(after.messages.echo - before.messages.echo).toBe(500);
    // the client above plus the one `stats()` opened
    expect(after.connections.total - before.connections.total).toBe(2);
  });

  it('counts the errors it replies with, by code', async () => {
    const client = pool.create();
    const before = await readStats(client);
    const errors = await Promise.all(
      [
        client.send('echo', { text: 1 } as unknown as EchoRequest),
        client.send('command', { name: 42 } as unknown as CommandRequest),
        client.command({ name: 'format-disk' }),
        client.command({ name: 'upper' }),
        client.command({ name: 'sleep', args: ['forever'] }),
        client.command({ name: 'help', args: ['nothing'] }),
      ].map(rejection),
    );
    expect(errors.map((error) => error.code)).toEqual([
      'VALIDATION_FAILED',
      'VALIDATION_FAILED',
      'UNKNOWN_COMMAND',
      'INVALID_COMMAND_ARGS',
      'INVALID_COMMAND_ARGS',
      'INVALID_COMMAND_ARGS',
    ]);
    const after = await readStats(client);

    expect(errorsAdded(before, after)).toEqual({ VALIDATION_FAILED: 2, UNKNOWN_COMMAND: 1, INVALID_COMMAND_ARGS: 3 });
    expect(after.errors.total - before.errors.total).toBe(6);
    expect(after.errors.total).toBe(Object.values(after.errors.byCode).reduce((sum, count) => sum + count, 0));
  });

  it('registers a handler for exactly the patterns of the contract, of the right kind, on every transport', () => {
    const transports = server.app.getMicroservices().map((microservice) => microservice.getTransportServer() as Server);
    const expected = [
      ...REQUEST_PATTERNS.map((pattern) => ({ pattern, event: false })),
      ...EVENT_PATTERNS.map((pattern) => ({ pattern, event: true })),
    ].sort((a, b) => a.pattern.localeCompare(b.pattern));

    expect(transports.map((transport) => transport.constructor.name)).toEqual(['EchoServerTcp', 'TextGatewayServer', 'UdpServer']);
    for (const transport of transports) {
      const handlers = [...transport.getHandlers()].map(([pattern, handler]) => ({ pattern, event: handler.isEventHandler === true }));
      expect(handlers.sort((a, b) => a.pattern.localeCompare(b.pattern))).toEqual(expected);
    }
  });
});
