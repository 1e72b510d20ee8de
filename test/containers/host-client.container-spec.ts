import { randomUUID } from 'node:crypto';
import { buildMixedScriptText, EVENT_PATTERNS, REQUEST_PATTERNS, shortSha256, type EchoClient, type EchoRequest } from '@echo-pair/common';
import type { StartedEchoServerContainer } from '@echo-pair/testcontainers';
import { readStats, rejection, statsWhen } from '../support/client-calls';
import { Cleanup } from './support/cleanup';
import { echoServerContainer, serverClient, serverClients, startContainer } from './support/echo-containers';

const CONCURRENT_CLIENTS = 100;
const ECHOES_PER_CLIENT = 20;
const MIB = 1024 * 1024;

/** The typed client on the host, against the server container through its port published on 127.0.0.1 (`getClientOptions`). */
describe('typed client on the host against the echo-server container', () => {
  const cleanup = new Cleanup();
  let server: StartedEchoServerContainer;

  beforeAll(async () => {
    server = await startContainer(cleanup, echoServerContainer());
  });

  afterAll(() => cleanup.run());

  function client(): EchoClient {
    return serverClient(cleanup, server);
  }

  it('greets from inside the container with every pattern of the contract', async () => {
    const hello = await client().hello({ client: 'container-spec' });

    expect(hello.welcome).toContain('Welcome to echo-server');
    expect(hello.instance).toBe(server.getHostname());
    expect(hello.patterns).toEqual({ requests: [...REQUEST_PATTERNS], events: [...EVENT_PATTERNS] });
  });

  it.each([
    ['ASCII', 'Hello, world!', 13],
    ['Chinese', '你好，世界', 15],
    ['emoji', '👨‍👩‍👧‍👦👍🏽', 33],
    ['Arabic (RTL)', 'مرحبا بالعالم', 25],
  ])('echoes %s text with its UTF-8 size', async (_label, text, bytes) => {
    const reply = await client().echo({ text });

    expect(reply).toMatchObject({ text, bytes, codeUnits: text.length });
  });

  it.each([
    ['upper', ['hello', 'wörld'], 'HELLO WÖRLD'],
    ['lower', ['ÉCHO', 'Server'], 'écho server'],
    ['reverse', ['abc 你好'], '好你 cba'],
    ['sleep', ['20'], 'slept 20 ms'],
  ])('runs the command %s %j', async (name, args, output) => {
    expect(await client().command({ name, args })).toMatchObject({ name, args, output });
  });

  it('runs time, uptime and help', async () => {
    const caller = client();

    expect(Number.isNaN(Date.parse((await caller.command({ name: 'time' })).output))).toBe(false);
    expect((await caller.command({ name: 'uptime' })).output).toMatch(/^up \d+d \d\d:\d\d:\d\d/);
    expect((await caller.command({ name: 'help' })).output.split('\n')).toHaveLength(8);
  });

  it('counts a fire-and-forget note in stats', async () => {
    const reader = client();
    const before = await readStats(reader);

    await client().note({ text: 'noted from the host', author: 'container-spec' });

    const after = await statsWhen(reader, (stats) => stats.events.note > before.events.note);
    expect(after.events.note).toBe(before.events.note + 1);
  });

  it('rejects an invalid request and an unknown command with their error codes', async () => {
    const caller = client();

    expect((await rejection(caller.send('echo', { text: 42 } as unknown as EchoRequest))).code).toBe('VALIDATION_FAILED');
    expect((await rejection(caller.command({ name: 'rm', args: ['-rf', '/'] }))).code).toBe('UNKNOWN_COMMAND');
    expect((await caller.echo({ text: 'still usable' })).text).toBe('still usable');
  });

  it(`serves ${CONCURRENT_CLIENTS} concurrent clients, each reply matched to its request`, async () => {
    const clients = serverClients(cleanup, server, CONCURRENT_CLIENTS, { timeoutMs: 30_000 });
    await Promise.all(clients.map((each) => each.connect()));
    const before = await readStats(clients[0]);
    const run = randomUUID();

    const matched = await Promise.all(
      clients.flatMap((each, clientIndex) =>
        Array.from({ length: ECHOES_PER_CLIENT }, async (_, index) => {
          const text = `${run} client ${clientIndex} message ${index} 你好 👋`;
          return (await each.echo({ text })).text === text;
        }),
      ),
    );

    expect(matched.filter(Boolean)).toHaveLength(CONCURRENT_CLIENTS * ECHOES_PER_CLIENT);
    const after = await readStats(clients[0]);
    expect(after.messages.echo - before.messages.echo).toBe(CONCURRENT_CLIENTS * ECHOES_PER_CLIENT);
    expect(after.connections.open).toBeGreaterThanOrEqual(CONCURRENT_CLIENTS);
    expect(after.errors.total).toBe(before.errors.total);
  });

  it('echoes 1 MiB of mixed-script text intact', async () => {
    const text = buildMixedScriptText(MIB);

    const reply = await serverClient(cleanup, server, { timeoutMs: 30_000 }).echo({ text });

    expect(reply.bytes).toBe(Buffer.byteLength(text, 'utf8'));
    expect(reply.bytes).toBeGreaterThanOrEqual(MIB);
    expect(shortSha256(reply.text)).toBe(shortSha256(text));
    expect(reply.text === text).toBe(true);
  });
});
