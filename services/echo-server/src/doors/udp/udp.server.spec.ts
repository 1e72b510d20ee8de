import fc from 'fast-check';
import type { RemoteInfo } from 'node:dgram';
import { udpReplyAllowance, type ErrorCode, type UdpDropReason } from '@echo-pair/common';
import { UdpServer } from './udp.server';

const SENDER: RemoteInfo = { address: '127.0.0.1', family: 'IPv4', port: 50312, size: 0 };
/** A reply far above any allowance here (a `hello` with every command, say). */
const BIG = { text: 'b'.repeat(20_000) };
const FATAL_UTF8 = new TextDecoder('utf-8', { fatal: true });

/** The UDP server without a socket: datagrams come from the test, and what it sends is kept. */
class UdpServerUnderTest extends UdpServer {
  readonly sent: Buffer[] = [];

  constructor(readonly spies: { [K in 'datagram' | 'dropped' | 'replyTooLarge' | 'countError']: jest.Mock }) {
    super({ host: '127.0.0.1', port: 0, maxDatagramBytes: 65_507 }, spies);
    jest.spyOn(this.unwrap<{ send: (bytes: Buffer) => void }>(), 'send').mockImplementation((bytes: Buffer) => {
      this.sent.push(Buffer.from(bytes));
    });
  }

  /** Runs one datagram to its end: a reply sent, a drop counted, or nothing for an event. */
  async deliver(message: Buffer | string): Promise<void> {
    await this.received(typeof message === 'string' ? Buffer.from(message, 'utf8') : message, SENDER);
  }

  /** The drops counted so far, by reason. */
  drops(): UdpDropReason[] {
    return this.spies.dropped.mock.calls.map(([reason]) => reason as UdpDropReason);
  }
}

function serverWithHandlers(): UdpServerUnderTest {
  const server = new UdpServerUnderTest({ datagram: jest.fn(), dropped: jest.fn(), replyTooLarge: jest.fn(), countError: jest.fn() });
  // `echo` sends its whole payload back: the largest reply a payload can buy. `big` replies far above any allowance.
  server.addHandler(
    'echo',
    jest.fn((data: unknown) => Promise.resolve(data)),
  );
  server.addHandler(
    'big',
    jest.fn(() => Promise.resolve(BIG)),
  );
  server.addHandler(
    'echo upper',
    jest.fn((data: unknown) => Promise.resolve({ text: String((data as { text?: unknown })?.text).toUpperCase() })),
  );
  return server;
}

/** A Nest packet's JSON with `idBytes` as its id's raw bytes between the quotes (any bytes, valid UTF-8 or not). */
function packetWithRawId(pattern: string, idBytes: Buffer, data?: unknown): Buffer {
  const [head, tail] = JSON.stringify({ pattern, ...(data === undefined ? {} : { data }), id: '\u0001' }).split('\\u0001');
  return Buffer.concat([Buffer.from(head, 'utf8'), idBytes, Buffer.from(tail, 'utf8')]);
}

describe('UdpServer', () => {
  let server: UdpServerUnderTest;

  beforeEach(() => {
    server = serverWithHandlers();
  });

  afterEach(async () => {
    await server.close();
  });

  describe('the 3x allowance holds for every reply datagram, REPLY_TOO_LARGE included', () => {
    it('replaces a reply over the allowance with REPLY_TOO_LARGE, itself within the allowance, and counts it', async () => {
      const request = JSON.stringify({ pattern: 'big', data: {}, id: 'r1' });
      await server.deliver(request);

      expect(server.sent).toHaveLength(1);
      const reply = server.sent[0];
      expect(reply.length).toBeLessThanOrEqual(udpReplyAllowance(request.length));
      expect(JSON.parse(reply.toString('utf8'))).toEqual({
        id: 'r1',
        err: {
          code: 'REPLY_TOO_LARGE',
          message: 'use TCP',
          details: { replyBytes: expect.any(Number) as unknown, allowedBytes: udpReplyAllowance(request.length) },
        },
        isDisposed: true,
      });
      expect(server.spies.replyTooLarge).toHaveBeenCalledTimes(1);
      expect(server.drops()).toEqual([]);
    });

    it('keeps the smallest requests with the longest ids JSON can carry within the allowance, REPLY_TOO_LARGE included', async () => {
      // The tightest packets: no data, no whitespace, the shortest pattern with a large reply; ids of
      // every length and of the characters whose JSON escapes are longest (a lone surrogate, NUL, quote).
      const ids = [
        ...Array.from({ length: 64 }, (_, length) => 'x'.repeat(length)),
        ...[1, 10, 100, 1000].flatMap((count) => ['\u0000', '\uD800', '"', '\\', 'é', '😀', '\u2028'].map((char) => char.repeat(count))),
      ];
      for (const id of ids) {
        const request = Buffer.from(JSON.stringify({ pattern: 'big', id }), 'utf8');
        server.sent.length = 0;
        await server.deliver(request);

        expect({ id, sent: server.sent.length }).toEqual({ id, sent: 1 });
        expect(server.sent[0].length).toBeLessThanOrEqual(udpReplyAllowance(request.length));
        expect(JSON.parse(server.sent[0].toString('utf8'))).toMatchObject({ id, err: { code: 'REPLY_TOO_LARGE' } });
      }
      expect(server.drops()).toEqual([]);
    });

    it('never sends more than 3x the request, over generated datagrams: packets with any id (also invalid UTF-8), text lines, raw bytes', async () => {
      const text = fc.oneof(
        fc.string({ unit: 'binary', maxLength: 64 }),
        fc.string({ unit: fc.constantFrom('\uD800', '\uDFFF', 'é', '€', '😀', '你', '\u0000', '"', '\\', '\u2028', 'a'), maxLength: 200 }),
      );
      const rawId = fc.oneof(
        text.map((id) => Buffer.from(JSON.stringify(id).slice(1, -1), 'utf8')),
        fc.uint8Array({ maxLength: 1200 }).map((bytes) => Buffer.from(bytes).map((byte) => (byte === 0x22 || byte === 0x5c ? 0xff : byte))),
        fc.integer({ min: 1, max: 1200 }).map((count) => Buffer.alloc(count, 0xff)),
      );
      const datagram = fc.oneof(
        fc
          .tuple(fc.constantFrom('echo', 'big', 'echo upper', 'nothing'), rawId, fc.option(fc.record({ text }), { nil: undefined }))
          .map(([pattern, id, data]) => packetWithRawId(pattern, Buffer.from(id), data)),
        text.map((line) => Buffer.from(line, 'utf8')),
        fc.uint8Array({ minLength: 1, maxLength: 300 }).map((bytes) => Buffer.from(bytes)),
        fc.uint8Array({ minLength: 1, maxLength: 300 }).map((bytes) => Buffer.concat([Buffer.from('{'), bytes])),
      );

      await fc.assert(
        fc.asyncProperty(datagram, async (message) => {
          server.sent.length = 0;
          await server.deliver(message);
          expect(server.sent.length).toBeLessThanOrEqual(1);
          for (const reply of server.sent) {
            expect(reply.length).toBeLessThanOrEqual(udpReplyAllowance(message.length));
          }
        }),
        { numRuns: 2000 },
      );
    });
  });

  describe('a Nest packet that is not valid UTF-8', () => {
    it('is dropped and counted, not answered with U+FFFD: the issue’s 1,000 invalid bytes as the id', async () => {
      const request = packetWithRawId('big', Buffer.alloc(1000, 0xff), {});
      expect(() => FATAL_UTF8.decode(request)).toThrow();

      await server.deliver(request);

      expect(server.sent).toEqual([]);
      expect(server.drops()).toEqual(['INVALID_UTF8']);
      expect(server.spies.replyTooLarge).not.toHaveBeenCalled();
    });

    it.each([
      [
        'a truncated sequence in the data',
        Buffer.concat([Buffer.from('{"pattern":"echo","data":{"text":"caf'), Buffer.from([0xc3]), Buffer.from('"},"id":"1"}')]),
      ],
      ['an encoded surrogate in the id', packetWithRawId('echo', Buffer.from([0xed, 0xa0, 0x80]), { text: 'x' })],
      [
        'an overlong encoding of "/" in the pattern',
        Buffer.concat([Buffer.from('{"pattern":"echo'), Buffer.from([0xc0, 0xaf]), Buffer.from('","id":"1"}')]),
      ],
      [
        'an event (no id) with a bad byte',
        Buffer.concat([Buffer.from('{"pattern":"echo","data":{"text":"'), Buffer.from([0x80]), Buffer.from('"}}')]),
      ],
    ])('%s: dropped and counted, no handler runs', async (_label, request) => {
      await server.deliver(request);

      expect(server.sent).toEqual([]);
      expect(server.drops()).toEqual(['INVALID_UTF8']);
    });

    it('while the same packet in valid UTF-8 is answered', async () => {
      await server.deliver(packetWithRawId('echo', Buffer.from('ïd', 'utf8'), { text: 'café' }));

      expect(server.drops()).toEqual([]);
      expect(JSON.parse(server.sent[0].toString('utf8'))).toEqual({ id: 'ïd', response: { text: 'café' }, isDisposed: true });
    });
  });

  describe('other drops, each counted with its reason', () => {
    it.each<[string, Buffer, UdpDropReason]>([
      ['an empty datagram', Buffer.alloc(0), 'EMPTY'],
      ['a datagram over the largest accepted', Buffer.alloc(65_508, 'a'), 'TOO_LARGE'],
      ['JSON that does not parse', Buffer.from('{"pattern":"echo"'), 'NOT_A_PACKET'],
      ['an object without a string pattern', Buffer.from('{"pattern":7,"id":"1"}'), 'NOT_A_PACKET'],
    ])('%s', async (_label, request, reason) => {
      await server.deliver(request);

      expect(server.sent).toEqual([]);
      expect(server.drops()).toEqual([reason]);
      expect(server.spies.datagram).toHaveBeenCalledTimes(1);
    });
  });

  describe('a text line with invalid bytes keeps its INVALID_TEXT reply', () => {
    it('answers ERR INVALID_TEXT within the allowance and counts the error, no drop', async () => {
      const request = Buffer.alloc(64, 0xff);
      await server.deliver(request);

      expect(server.sent.map((reply) => reply.toString('utf8'))).toEqual([
        'ERR INVALID_TEXT the line is neither valid UTF-8 nor valid GBK (GB18030)\n',
      ]);
      expect(server.sent[0].length).toBeLessThanOrEqual(udpReplyAllowance(request.length));
      expect(server.spies.countError.mock.calls).toEqual([['INVALID_TEXT' satisfies ErrorCode]]);
      expect(server.drops()).toEqual([]);
    });

    it('answers a few bad bytes with REPLY_TOO_LARGE, which fits where INVALID_TEXT does not', async () => {
      await server.deliver(Buffer.from([0xff, 0xfe, 0x00]));

      expect(server.sent.map((reply) => reply.toString('utf8'))).toEqual(['ERR REPLY_TOO_LARGE use TCP\n']);
      expect(server.spies.replyTooLarge).toHaveBeenCalledTimes(1);
    });
  });
});
