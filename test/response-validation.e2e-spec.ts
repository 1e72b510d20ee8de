import { EchoClient, ErrorCodes, RpcClientError, type CommandResponse } from '@echo-pair/common';
import { CommandRegistry, type RunningEchoServer } from '@echo-pair/echo-server';
import { expectLogged } from './support/captured-logs';
import { errorsAdded, readStats, rejection } from './support/client-calls';
import { clientsOnFastPath, FAST_PATH_MODES } from './support/fast-path-modes';
import { PeerSet } from './support/line-peer';
import { startTestServer } from './support/test-server';

/** A deliberately broken command: its output is a number where the contract says string. */
const BROKEN = { name: 'broken', usage: 'broken', description: 'replies a number as its output (a test of VALIDATE_RESPONSES)' };
const brokenCommand = { execute: () => 42 as unknown as string };

const INVALID = 'invalid response to "command": output: output must be a string';

function startWithBrokenCommand(env: Record<string, string>): Promise<RunningEchoServer> {
  return startTestServer(env).then((server) => {
    server.app.get(CommandRegistry).register(BROKEN, brokenCommand);
    return server;
  });
}

/**
 * VALIDATE_RESPONSES against a real server: a handler's response that breaks the contract is
 * replaced by INVALID_RESPONSE on every door (TCP, text gateway, UDP), logged once as an error,
 * and counted; valid responses are untouched.
 */
describe.each(FAST_PATH_MODES)('responses checked against the contract ($mode)', ({ ECHO_FAST_PATH }) => {
  let server: RunningEchoServer;
  let client: EchoClient;
  const peers = new PeerSet();

  clientsOnFastPath(ECHO_FAST_PATH);

  beforeAll(async () => {
    // LOG_LEVEL=error (startTestServer's): the INVALID_RESPONSE line is an error, so it is logged.
    server = await startWithBrokenCommand({ ECHO_FAST_PATH });
    client = EchoClient.create({ host: server.host, port: server.port, timeoutMs: 10_000 });
  });

  afterEach(() => peers.destroyAll());

  afterAll(async () => {
    await peers.destroyAll();
    await client?.close();
    await server?.close();
  });

  it('fails the call over TCP with INVALID_RESPONSE naming the field, logs it once, and counts it', async () => {
    const before = await readStats(client);

    const error = await rejection(client.send('command', { name: 'broken' }));

    expect(error).toBeInstanceOf(RpcClientError);
    expect(error.code).toBe(ErrorCodes.INVALID_RESPONSE);
    expect(error.envelope).toEqual({
      code: ErrorCodes.INVALID_RESPONSE,
      message: INVALID,
      details: { pattern: 'command', violations: [{ field: 'output', constraints: { isString: 'output must be a string' } }] },
    });
    expectLogged('error', `"command" from 127.0.0.1:`, { times: 1, context: 'RpcErrors' });
    expectLogged('error', `INVALID_RESPONSE ${JSON.stringify(INVALID)}`, { times: 1 });
    expect(errorsAdded(before, await readStats(client))).toEqual({ INVALID_RESPONSE: 1 });
  });

  it('fails it on the text gateway', async () => {
    const peer = await peers.connect(server.textPort!);

    await peer.write('/broken\n');

    expect(await peer.readLine()).toBe(`ERR INVALID_RESPONSE ${INVALID}`);
    await peer.write('/upper still fine\n');
    expect(await peer.readLine()).toBe('STILL FINE');
  });

  it('fails it over UDP, as a text line and as a packet', async () => {
    const peer = await peers.datagram(server.udpPort!);

    // An argument long enough for the error's size (a UDP reply is at most UDP_REPLY_FACTOR × its request).
    expect((await peer.request(`/broken ${'x'.repeat(64)}`)).toString('utf8')).toBe(`ERR INVALID_RESPONSE ${INVALID}\n`);
    const packet = JSON.stringify({ pattern: 'command', data: { name: 'broken' }, id: 'broken-1' }).padEnd(400, ' ');
    const reply = JSON.parse((await peer.request(packet)).toString('utf8')) as { id: string; err?: { code: string; message: string } };
    expect(reply).toMatchObject({ id: 'broken-1', err: { code: ErrorCodes.INVALID_RESPONSE, message: INVALID } });
  });

  it('lets valid responses through unchanged', async () => {
    const reply: CommandResponse = await client.send('command', { name: 'upper', args: ['ok'] });

    expect(reply).toEqual({
      name: 'upper',
      args: ['ok'],
      output: 'OK',
      startedAt: expect.any(String) as unknown,
      durationMs: expect.any(Number) as unknown,
    });
    await expect(client.send('echo', { text: 'ok' })).resolves.toMatchObject({ text: 'ok', bytes: 2 });
  });
});

describe('responses not checked (VALIDATE_RESPONSES=false)', () => {
  let server: RunningEchoServer;
  let client: EchoClient;

  beforeAll(async () => {
    server = await startWithBrokenCommand({ VALIDATE_RESPONSES: 'false' });
    client = EchoClient.create({ host: server.host, port: server.port, timeoutMs: 10_000 });
  });

  afterAll(async () => {
    await client?.close();
    await server?.close();
  });

  it('sends what the handler returned, as it did before the check', async () => {
    await expect(client.send('command', { name: 'broken' })).resolves.toMatchObject({ name: 'broken', output: 42 });
  });
});
