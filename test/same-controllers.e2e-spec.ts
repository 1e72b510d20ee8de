import {
  UDP_HEADER_BYTES,
  UDP_MIN_REQUEST_BYTES,
  UDP_REPLY_FACTOR,
  WireLimits,
  type CommandRequest,
  type EchoClient,
  type EchoRequest,
  type RpcErrorEnvelope,
  type ServerStats,
} from '@echo-pair/common';
import type { RunningEchoServer } from '@echo-pair/echo-server';
import { errorsAdded, readStats, rejection } from './support/client-calls';
import { PeerSet, type DatagramPeer, type LinePeer } from './support/line-peer';
import { ClientPool, startTestServer } from './support/test-server';

/** Long enough for a command argument over WireLimits.commandArgMaxLength on one text line. */
const TEXT_MAX_LINE_BYTES = 4 * WireLimits.commandArgMaxLength;

/**
 * One server, three transports: Nest's framed TCP (the typed client), the text gateway and UDP
 * (text lines and JSON packets). The same controllers, pipes and filters serve them all, so the
 * same request fails with the same code and message everywhere, and is counted the same way.
 */
describe('the same controllers over TCP, text and UDP', () => {
  let server: RunningEchoServer;
  let pool: ClientPool;
  let tcp: EchoClient;
  let text: LinePeer;
  let udp: DatagramPeer;
  const peers = new PeerSet();

  beforeAll(async () => {
    server = await startTestServer({
      TEXT_MAX_LINE_BYTES: String(TEXT_MAX_LINE_BYTES),
      TEXT_WELCOME_DELAY_MS: '60000',
      LOG_LEVEL: 'fatal',
    });
    pool = new ClientPool(server);
    tcp = pool.create();
    await tcp.connect();
    text = await peers.connect(server.textPort!);
    udp = await peers.datagram(server.udpPort!);
  });

  afterAll(async () => {
    await peers.destroyAll();
    await pool?.closeAll();
    await server?.close();
  });

  /** One datagram and its reply, which must be within the amplification bound. */
  async function udpRequest(datagram: string): Promise<Buffer> {
    const reply = await udp.request(datagram);
    expect(reply.length + UDP_HEADER_BYTES).toBeLessThanOrEqual(UDP_REPLY_FACTOR * (Buffer.byteLength(datagram) + UDP_HEADER_BYTES));
    return reply;
  }

  /** A command line as a UDP datagram, padded with spaces (which a command line ignores) so that its reply passes the amplification bound. */
  async function udpLine(line: string): Promise<string> {
    const reply = (await udpRequest(line.padEnd(UDP_MIN_REQUEST_BYTES, ' '))).toString('utf8');
    expect(reply.endsWith('\n')).toBe(true);
    return reply.slice(0, -1);
  }

  /** A Nest packet as a UDP datagram, padded as the typed client pads it; resolves with its error envelope. */
  async function udpPacketError(pattern: string, data: unknown): Promise<unknown> {
    const id = `same-${pattern}-${Math.random().toString(36).slice(2)}`;
    const reply = await udpRequest(JSON.stringify({ pattern, data, id }).padEnd(UDP_MIN_REQUEST_BYTES, ' '));
    const packet = JSON.parse(reply.toString('utf8')) as { id: string; err?: unknown; response?: unknown };
    expect(packet.id).toBe(id);
    expect(packet.response).toBeUndefined();
    return packet.err;
  }

  async function tcpCommandError(request: CommandRequest): Promise<RpcErrorEnvelope> {
    const error = await rejection(tcp.command(request));
    expect(error.envelope).toBeDefined();
    return error.envelope!;
  }

  function errorsOf(stats: ServerStats): { text: number; udp: number; tcp: number } {
    return { text: stats.transports.text.errors, udp: stats.transports.udp.errors, tcp: stats.transports.tcp.errors };
  }

  it('a validation error, an unknown command and stats come out the same over TCP, text and UDP', async () => {
    await sameErrors();
    await sameStats();
  });

  /** The same bad requests over every transport: the same code and message (`ERR <CODE> <message>` as text), each counted once. */
  async function sameErrors(): Promise<void> {
    const before = await readStats(tcp);

    // Validation: more arguments than the contract allows (the DTO's @ArrayMaxSize).
    const args = Array.from({ length: WireLimits.commandArgsMaxCount + 1 }, (_, index) => `a${index}`);
    const tooMany = await tcpCommandError({ name: 'upper', args });
    expect(tooMany).toMatchObject({ code: 'VALIDATION_FAILED', message: 'invalid request: args' });
    const tooManyLine = `ERR ${tooMany.code} ${tooMany.message}`;
    expect(await text.ask(`/upper ${args.join(' ')}`)).toBe(tooManyLine);
    expect(await udpLine(`/upper ${args.join(' ')}`)).toBe(tooManyLine);
    expect(await udpPacketError('command', { name: 'upper', args })).toEqual(tooMany);

    // Validation: a command name the contract refuses (the DTO's @Matches).
    const badName = await tcpCommandError({ name: 'UPPER', args: ['x'] });
    expect(badName).toMatchObject({ code: 'VALIDATION_FAILED', message: 'invalid request: name' });
    expect(await text.ask('/UPPER x')).toBe(`ERR ${badName.code} ${badName.message}`);
    expect(await udpLine('/UPPER x')).toBe(`ERR ${badName.code} ${badName.message}`);
    expect(await udpPacketError('command', { name: 'UPPER', args: ['x'] })).toEqual(badName);

    // Validation: an over-long argument (a datagram cannot carry one: 65,507 bytes at most).
    const longArg = 'x'.repeat(WireLimits.commandArgMaxLength + 1);
    const tooLong = await tcpCommandError({ name: 'upper', args: [longArg] });
    expect(tooLong).toMatchObject({ code: 'VALIDATION_FAILED', message: 'invalid request: args' });
    expect(await text.ask(`/upper ${longArg}`, 10_000)).toBe(`ERR ${tooLong.code} ${tooLong.message}`);

    // Validation: echo of a non-string (no text line can say that; a JSON packet can).
    const notText = await rejection(tcp.echo({ text: 42 } as unknown as EchoRequest));
    expect(notText.envelope).toMatchObject({ code: 'VALIDATION_FAILED', message: 'invalid request: text' });
    expect(await udpPacketError('echo', { text: 42 })).toEqual(notText.envelope);

    // Unknown command: the allowlist answers, whatever the transport; no shell ever runs.
    const unknown = await tcpCommandError({ name: 'rm', args: ['-rf', '/'] });
    expect(unknown).toMatchObject({ code: 'UNKNOWN_COMMAND', details: { command: 'rm' } });
    expect(unknown.message).toMatch(/^unknown command "rm"; known commands: help, /);
    const unknownLine = `ERR ${unknown.code} ${unknown.message}`;
    expect(await text.ask('/rm -rf /')).toBe(unknownLine);
    expect(await udpLine('/rm -rf /')).toBe(unknownLine);
    expect(await udpPacketError('command', { name: 'rm', args: ['-rf', '/'] })).toEqual(unknown);

    // Every error was counted once, against its own transport.
    const after = await readStats(tcp);
    // Too many arguments and the bad name over all four ways, the long argument over two, the number over two; the unknown command over four.
    expect(errorsAdded(before, after)).toEqual({ VALIDATION_FAILED: 4 + 4 + 2 + 2, UNKNOWN_COMMAND: 4 });
    const errorsBefore = errorsOf(before);
    const errorsAfter = errorsOf(after);
    expect({
      tcp: errorsAfter.tcp - errorsBefore.tcp,
      text: errorsAfter.text - errorsBefore.text,
      udp: errorsAfter.udp - errorsBefore.udp,
    }).toEqual({ tcp: 5, text: 4, udp: 7 });
  }

  /** After a known sequence, the stats command over each transport: the same keys, and the counts that sequence explains. */
  async function sameStats(): Promise<void> {
    const start = await readStats(tcp);

    // A known sequence: 3 requests over TCP, 4 lines over the text gateway (one unknown command), 3 datagrams.
    expect((await tcp.echo({ text: 'tcp one' })).text).toBe('tcp one');
    expect((await tcp.echo({ text: 'tcp two' })).text).toBe('tcp two');
    expect((await tcp.command({ name: 'upper', args: ['tcp'] })).output).toBe('TCP');
    expect(await text.ask('text one')).toBe('text one');
    expect(await text.ask('text two')).toBe('text two');
    expect(await text.ask('/upper text')).toBe('TEXT');
    expect(await text.ask('/rm -rf /')).toMatch(/^ERR UNKNOWN_COMMAND /);
    expect((await udpRequest('udp one')).toString('utf8')).toBe('udp one\n');
    expect(await udpLine('/upper udp')).toBe('UDP');
    const packet = JSON.parse(
      (await udpRequest(JSON.stringify({ pattern: 'echo', data: { text: 'udp packet' }, id: 'p1' }))).toString('utf8'),
    ) as {
      response: { text: string };
    };
    expect(packet.response.text).toBe('udp packet');

    // The same stats command over each transport, one after the other.
    const overTcp = await readStats(tcp);
    const overText = JSON.parse(await text.ask('/stats')) as ServerStats;
    const overUdp = JSON.parse(await udpLine('/stats')) as ServerStats;

    const keys = keyPaths(overTcp);
    expect(keyPaths(overText)).toEqual(keys);
    expect(keyPaths(overUdp)).toEqual(keys);

    const messagesSince = (stats: ServerStats) => ({
      tcp: stats.transports.tcp.messages - start.transports.tcp.messages,
      text: stats.transports.text.messages - start.transports.text.messages,
      udp: stats.transports.udp.messages - start.transports.udp.messages,
      echo: stats.messages.echo - start.messages.echo,
      command: stats.messages.command - start.messages.command,
    });
    // Each stats request counts itself (the guard counts before the handler runs).
    expect(messagesSince(overTcp)).toEqual({ tcp: 4, text: 4, udp: 3, echo: 6, command: 5 });
    expect(messagesSince(overText)).toEqual({ tcp: 4, text: 5, udp: 3, echo: 6, command: 6 });
    expect(messagesSince(overUdp)).toEqual({ tcp: 4, text: 5, udp: 4, echo: 6, command: 7 });

    // Beyond those counters and the uptime, the three documents are the same.
    expect(withoutUptime(overText)).toEqual(
      withoutUptime(
        bump(overTcp, (stats) => {
          stats.transports.text.messages += 1;
          stats.messages.command += 1;
          stats.commands.stats = (stats.commands.stats ?? 0) + 1;
        }),
      ),
    );
    expect(withoutUptime(overUdp)).toEqual(
      withoutUptime(
        bump(overText, (stats) => {
          stats.transports.udp.messages += 1;
          stats.messages.command += 1;
          stats.commands.stats = (stats.commands.stats ?? 0) + 1;
          stats.datagrams.received += 1;
        }),
      ),
    );
    expect(overUdp.transports.text.connections.open).toBe(1);
    expect(overUdp.transports.udp.connections).toEqual({ open: 0, total: 0 });
    expect(overUdp.errors.byCode.UNKNOWN_COMMAND! - start.errors.byCode.UNKNOWN_COMMAND!).toBe(1);
    expect(overUdp.transports.text.errors - start.transports.text.errors).toBe(1);
  }
});

/** Every key path of a JSON value, sorted: `transports.udp.messages`, … */
function keyPaths(value: unknown, prefix = ''): string[] {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) {
    return [prefix];
  }
  return Object.entries(value)
    .flatMap(([key, child]) => keyPaths(child, prefix === '' ? key : `${prefix}.${key}`))
    .sort();
}

function withoutUptime(stats: ServerStats): Omit<ServerStats, 'uptimeSeconds'> {
  const { uptimeSeconds: _uptime, ...rest } = stats;
  return rest;
}

function bump(stats: ServerStats, change: (copy: ServerStats) => void): ServerStats {
  const copy = structuredClone(stats);
  change(copy);
  return copy;
}
