import {
  UDP_HEADER_BYTES,
  UDP_MIN_REQUEST_BYTES,
  UDP_REPLY_FACTOR,
  type EchoClient,
  type EchoResponse,
  type HelloResponse,
  type ServerStats,
} from '@echo-pair/common';
import type { RunningEchoServer } from '@echo-pair/echo-server';
import { readStats } from './support/client-calls';
import { gbk, PeerSet, pollUntil, type DatagramPeer } from './support/line-peer';
import { ClientPool, startTestServer } from './support/test-server';

const MAX_DATAGRAM_BYTES = 2048;
const REPLY_TOO_LARGE = 'ERR REPLY_TOO_LARGE use TCP\n';
/** How long a datagram that gets no reply is given to get one anyway. */
const NO_REPLY_MS = 300;

interface ReplyPacket {
  id: string;
  response?: unknown;
  err?: unknown;
  isDisposed?: boolean;
}

function parsePacket(text: string): ReplyPacket | undefined {
  try {
    const value: unknown = JSON.parse(text);
    return typeof value === 'object' && value !== null ? (value as ReplyPacket) : undefined;
  } catch {
    return undefined;
  }
}

describe('UDP endpoint', () => {
  let server: RunningEchoServer;
  let pool: ClientPool;
  let client: EchoClient;
  const peers = new PeerSet();
  /** Every request and reply a test saw, checked against the amplification bound after each test. */
  const exchanges: Array<{ request: number; reply: number }> = [];

  beforeAll(async () => {
    server = await startTestServer({ UDP_MAX_DATAGRAM_BYTES: String(MAX_DATAGRAM_BYTES), LOG_LEVEL: 'fatal' });
    pool = new ClientPool(server);
    client = pool.create();
  });

  afterEach(async () => {
    await peers.destroyAll();
    const over = exchanges
      .splice(0)
      .filter(({ request, reply }) => reply + UDP_HEADER_BYTES > UDP_REPLY_FACTOR * (request + UDP_HEADER_BYTES));
    expect(over).toEqual([]);
  });

  afterAll(async () => {
    await peers.destroyAll();
    await pool?.closeAll();
    await server?.close();
  });

  function open(): Promise<DatagramPeer> {
    return peers.datagram(server.udpPort!);
  }

  /** One request datagram and its reply; every reply is checked against the bound: reply + 28 <= 3 × (request + 28). */
  async function ask(peer: DatagramPeer, request: string | Buffer): Promise<Buffer> {
    const bytes = typeof request === 'string' ? Buffer.from(request, 'utf8') : request;
    const reply = await peer.request(bytes);
    exchanges.push({ request: bytes.length, reply: reply.length });
    expect(reply.length + UDP_HEADER_BYTES).toBeLessThanOrEqual(UDP_REPLY_FACTOR * (bytes.length + UDP_HEADER_BYTES));
    return reply;
  }

  async function askPacket(peer: DatagramPeer, packet: object, padTo = 0): Promise<ReplyPacket> {
    const json = JSON.stringify(packet);
    const reply = await ask(peer, json.padEnd(padTo, ' '));
    return JSON.parse(reply.toString('utf8')) as ReplyPacket;
  }

  it('echoes a UTF-8 text datagram in UTF-8, with or without a line end', async () => {
    const peer = await open();
    const text = 'héllo 你好，世界 👋🏽';
    expect((await ask(peer, text)).toString('utf8')).toBe(`${text}\n`);
    expect((await ask(peer, `${text}\n`)).toString('utf8')).toBe(`${text}\n`);
    expect((await ask(peer, `${text}\r\n`)).toString('utf8')).toBe(`${text}\n`);
  });

  it('echoes a GBK text datagram in GBK, and runs commands on GBK text', async () => {
    const peer = await open();
    expect((await ask(peer, gbk('你好，世界'))).equals(gbk('你好，世界\n'))).toBe(true);
    expect((await ask(peer, gbk('/reverse 你好世界'))).equals(gbk('界世好你\n'))).toBe(true);
    // Each datagram stands alone: the next UTF-8 one is read as UTF-8.
    expect((await ask(peer, '/reverse 你好')).toString('utf8')).toBe('好你\n');
  });

  it('runs /upper from a text datagram', async () => {
    const peer = await open();
    expect((await ask(peer, '/upper héllo "wörld  twice"')).toString('utf8')).toBe('HÉLLO WÖRLD  TWICE\n');
  });

  it('answers a Nest packet as JSON with a JSON reply of the same id', async () => {
    const peer = await open();
    const echo = await askPacket(peer, { pattern: 'echo', data: { text: '你好 udp' }, id: 'req-echo-1' });
    expect(echo).toMatchObject({ id: 'req-echo-1', isDisposed: true, response: { text: '你好 udp', bytes: 10, codePoints: 6 } });
    expect(echo.err).toBeUndefined();
    const command = await askPacket(peer, { pattern: 'command', data: { name: 'upper', args: ['a', 'b'] }, id: 'req-cmd-2' });
    expect(command).toMatchObject({ id: 'req-cmd-2', response: { name: 'upper', output: 'A B' } });
    // An error envelope names its violations at length: padded, as the typed client pads.
    const invalid = await askPacket(peer, { pattern: 'echo', data: { text: 42 }, id: 'req-bad-3' }, UDP_MIN_REQUEST_BYTES);
    expect(invalid).toMatchObject({ id: 'req-bad-3', err: { code: 'VALIDATION_FAILED', message: 'invalid request: text' } });
  });

  it('handles an event packet without a reply, and counts it', async () => {
    const peer = await open();
    const before = await readStats(client);
    await peer.send(JSON.stringify({ pattern: 'note', data: { text: 'a note over UDP', author: 'e2e' } }));
    const after = await pollUntil(
      () => readStats(client),
      (stats) => stats.events.note > before.events.note,
    );
    expect(after.events.note - before.events.note).toBe(1);
    // The stats reads themselves count as TCP messages, not UDP ones.
    expect(after.transports.udp.messages - before.transports.udp.messages).toBe(1);
    expect(after.datagrams.received - before.datagrams.received).toBe(1);
    expect(await peer.repliesWithin(NO_REPLY_MS)).toEqual([]);
  });

  it('answers a small datagram whose reply would exceed 3× with exactly REPLY_TOO_LARGE, and counts it', async () => {
    const peer = await open();
    const before = await readStats(client);
    for (const request of ['/help', '/stats', ' /help']) {
      expect((await ask(peer, request)).toString('latin1')).toBe(REPLY_TOO_LARGE);
    }
    const after = await readStats(client);
    expect(after.datagrams.repliesTooLarge - before.datagrams.repliesTooLarge).toBe(3);
    // The same commands, padded with spaces (which a command line ignores), get their full replies.
    const help = (await ask(peer, '/help'.padEnd(UDP_MIN_REQUEST_BYTES, ' '))).toString('utf8');
    expect(help).toContain('upper <text...>');
    expect(help).not.toContain('REPLY_TOO_LARGE');
    const stats = JSON.parse((await ask(peer, '/stats'.padEnd(UDP_MIN_REQUEST_BYTES, ' '))).toString('utf8')) as ServerStats;
    expect(stats.datagrams.repliesTooLarge).toBeGreaterThanOrEqual(3);
  });

  it('gives a padded JSON hello its full reply, and an unpadded one REPLY_TOO_LARGE within the bound', async () => {
    const peer = await open();
    const hello = await askPacket(peer, { pattern: 'hello', data: { client: 'udp-e2e' }, id: 'hello-padded' }, UDP_MIN_REQUEST_BYTES);
    expect(hello.err).toBeUndefined();
    expect(hello.id).toBe('hello-padded');
    expect((hello.response as HelloResponse).commands.map((command) => command.name)).toContain('upper');
    const small = await askPacket(peer, { pattern: 'hello', data: {}, id: 'h' });
    expect(small).toMatchObject({ id: 'h', err: { code: 'REPLY_TOO_LARGE', message: 'use TCP' } });
  });

  it('keeps every reply within the bound, down to one-byte requests', async () => {
    // (A datagram starting with "{" that is no packet is a malformed one: see below.)
    const peer = await open();
    for (const request of [
      'x',
      '/',
      '"',
      'é',
      '/a',
      '[1]',
      'quit',
      '/x',
      '/upper',
      '/sleep 1',
      '{"pattern":"x","id":""}',
      '{"pattern":"hello","id":""}',
    ]) {
      const reply = await ask(peer, request);
      expect(reply.length).toBeGreaterThan(0);
    }
    expect((await ask(peer, 'x')).toString('utf8')).toBe('x\n');
    expect((await ask(peer, '/')).toString('utf8')).toBe(REPLY_TOO_LARGE);
  });

  describe('malformed datagrams', () => {
    let before: ServerStats;

    beforeEach(async () => {
      before = await readStats(client);
    });

    /** The server still answers: a text echo and a packet. */
    async function expectServing(peer: DatagramPeer): Promise<void> {
      expect((await ask(peer, 'still serving')).toString('utf8')).toBe('still serving\n');
      const reply = await askPacket(peer, { pattern: 'echo', data: { text: 'packet' }, id: 'after' });
      expect((reply.response as EchoResponse).text).toBe('packet');
    }

    /** The reply to a malformed datagram: none (dropped), or an error, as text or as a JSON packet. */
    async function errorOrNothing(peer: DatagramPeer, datagram: Buffer): Promise<string | undefined> {
      await peer.send(datagram);
      const replies = await peer.repliesWithin(NO_REPLY_MS);
      expect(replies.length).toBeLessThanOrEqual(1);
      const reply = replies[0];
      if (reply === undefined) {
        return undefined;
      }
      exchanges.push({ request: datagram.length, reply: reply.length });
      const text = reply.toString('utf8');
      const isError = text.startsWith('ERR ') || parsePacket(text)?.err !== undefined;
      expect({ datagram: datagram.toString('utf8'), reply: text, isError }).toEqual({
        datagram: datagram.toString('utf8'),
        reply: text,
        isError: true,
      });
      return text;
    }

    /** The datagram is counted as dropped or as an error. */
    async function expectCounted(kind: 'dropped' | 'error' | 'either'): Promise<void> {
      const after = await pollUntil(
        () => readStats(client),
        (stats) => stats.datagrams.received > before.datagrams.received,
      );
      const dropped = after.datagrams.dropped - before.datagrams.dropped;
      const errors = after.transports.udp.errors - before.transports.udp.errors;
      expect(after.datagrams.received - before.datagrams.received).toBe(1);
      if (kind === 'dropped') {
        expect({ dropped, errors }).toEqual({ dropped: 1, errors: 0 });
      } else if (kind === 'error') {
        expect({ dropped, errors }).toEqual({ dropped: 0, errors: 1 });
      } else {
        expect(dropped + errors).toBe(1);
      }
    }

    it('drops an empty datagram and counts it', async () => {
      const peer = await open();
      expect(await errorOrNothing(peer, Buffer.alloc(0))).toBeUndefined();
      await expectCounted('dropped');
      await expectServing(peer);
    });

    it('drops a datagram over UDP_MAX_DATAGRAM_BYTES and counts it', async () => {
      const peer = await open();
      expect(await errorOrNothing(peer, Buffer.alloc(MAX_DATAGRAM_BYTES + 1, 'a'))).toBeUndefined();
      await expectCounted('dropped');
      // One byte less is a line like any other.
      expect((await ask(peer, Buffer.alloc(MAX_DATAGRAM_BYTES, 'a'))).length).toBe(MAX_DATAGRAM_BYTES + 1);
      await expectServing(peer);
    });

    it('answers garbage bytes (neither UTF-8 nor GBK) with INVALID_TEXT and counts the error', async () => {
      const peer = await open();
      const reply = await errorOrNothing(peer, Buffer.alloc(64, 0xff));
      expect(reply).toBe('ERR INVALID_TEXT the line is neither valid UTF-8 nor valid GBK (GB18030)\n');
      await expectCounted('error');
      await expectServing(peer);
    });

    it('answers a few garbage bytes within the bound: REPLY_TOO_LARGE instead of the longer INVALID_TEXT', async () => {
      const peer = await open();
      expect(await errorOrNothing(peer, Buffer.from([0xff, 0xfe, 0x00]))).toBe(REPLY_TOO_LARGE);
      await expectCounted('error');
      await expectServing(peer);
    });

    it('answers control characters with INVALID_TEXT', async () => {
      const peer = await open();
      const reply = await errorOrNothing(peer, Buffer.from('a NUL \u0000 and an ESC \u001b[2J in one datagram'));
      expect(reply).toBe('ERR INVALID_TEXT control characters (NUL, ESC and the like) are not accepted\n');
      await expectCounted('error');
      await expectServing(peer);
    });

    it.each([
      ['invalid JSON starting with {', '{"pattern":"echo","data":{"text":"unterminated"'],
      ['a JSON object that is no packet', '{"pattern":7,"data":{},"id":"x"}'],
      ['a packet whose id is no string', '{"pattern":"echo","data":{"text":"hi"},"id":12}'],
    ])('answers %s with an error or drops it, counts it, and keeps serving', async (_label, datagram) => {
      const peer = await open();
      await errorOrNothing(peer, Buffer.from(datagram, 'utf8'));
      await expectCounted('either');
      await expectServing(peer);
    });

    it('drops a Nest packet that is not valid UTF-8 (an id of 1,000 invalid bytes) and counts it as INVALID_UTF8, with no U+FFFD reply', async () => {
      const peer = await open();
      const [head, tail] = JSON.stringify({ pattern: 'hello', data: {}, id: '@' }).split('@');
      const datagram = Buffer.concat([Buffer.from(head), Buffer.alloc(1000, 0xff), Buffer.from(tail)]);
      expect(await errorOrNothing(peer, datagram)).toBeUndefined();
      await expectCounted('dropped');
      const after = await readStats(client);
      expect((after.datagrams.droppedByReason.INVALID_UTF8 ?? 0) - (before.datagrams.droppedByReason.INVALID_UTF8 ?? 0)).toBe(1);
      await expectServing(peer);
    });

    it('holds the REPLY_TOO_LARGE replacement itself to 3×: the tightest packets, with the ids whose JSON is longest, are answered within the bound', async () => {
      const peer = await open();
      // Empty data, no whitespace, a pattern with a large reply: the replacement carries the id back, escapes included.
      // Each id is written as it stands in the JSON; ask checks every reply against the bound.
      for (const id of ['', 'x', 'x'.repeat(500), '\\u0000'.repeat(100), '\\ud800'.repeat(100), '\\"'.repeat(200), '😀'.repeat(100)]) {
        const reply = parsePacket((await ask(peer, `{"pattern":"hello","data":{},"id":"${id}"}`)).toString('utf8'));
        expect(reply?.id).toBe(JSON.parse(`"${id}"`) as string);
        if (id.length <= 1) {
          expect(reply?.err).toMatchObject({ code: 'REPLY_TOO_LARGE' });
        }
      }
      const after = await readStats(client);
      expect(after.datagrams.droppedByReason.REPLY_OVER_ALLOWANCE ?? 0).toBe(before.datagrams.droppedByReason.REPLY_OVER_ALLOWANCE ?? 0);
    });

    it('answers an unknown pattern in a packet with Nest’s error, as its TCP transport does', async () => {
      const peer = await open();
      const reply = await askPacket(peer, { pattern: 'no-such-pattern', data: {}, id: 'unknown-1' });
      expect(reply).toEqual({
        id: 'unknown-1',
        err: 'There is no matching message handler defined in the remote service.',
        isDisposed: true,
      });
      await expectServing(peer);
    });
  });

  it("exports the kernel's drops of its socket as echo_server_udp_kernel_drops_total, read at scrape time", async () => {
    const text = await (await fetch(`http://127.0.0.1:${server.metricsPort}/metrics`)).text();
    const sample = text.split('\n').find((line) => line.startsWith('echo_server_udp_kernel_drops_total '));
    expect(sample).toMatch(/^echo_server_udp_kernel_drops_total \d+$/);
  });
});

describe('UDP endpoint with ECHO_FAST_PATH=false (stock route lookup)', () => {
  let server: RunningEchoServer;
  const peers = new PeerSet();

  beforeAll(async () => {
    server = await startTestServer({ ECHO_FAST_PATH: 'false', LOG_LEVEL: 'fatal' });
  });

  afterAll(async () => {
    await peers.destroyAll();
    await server?.close();
  });

  it('answers text lines, Nest packets and unknown patterns as with the fast paths', async () => {
    const peer = await peers.datagram(server.udpPort!);
    expect((await peer.request(Buffer.from('héllo\n'))).toString('utf8')).toBe('héllo\n');
    expect((await peer.request(Buffer.from('/upper a b'))).toString('utf8')).toBe('A B\n');
    const echo = JSON.parse(
      (await peer.request(Buffer.from('{"pattern":"echo","data":{"text":"x"},"id":"s1"}'))).toString('utf8'),
    ) as ReplyPacket;
    expect(echo).toMatchObject({ id: 's1', response: { text: 'x' }, isDisposed: true });
    const unknown = (await peer.request(Buffer.from('{"pattern":"no-such-pattern","data":{},"id":"s2"}'))).toString('utf8');
    expect(unknown).toBe('{"id":"s2","err":"There is no matching message handler defined in the remote service.","isDisposed":true}');
  });
});
