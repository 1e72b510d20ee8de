import type { RemoteInfo } from 'node:dgram';
import { Server } from '@nestjs/microservices';
import iconv from 'iconv-lite';
import { REQUEST_PATTERNS, type ErrorCode, type RpcErrorEnvelope, type UdpDropReason } from '@echo-pair/common';
import { EVENT_HANDLED, type CallOutcome, type OutcomeNowOrLater } from '../gateway-server';
import { UdpServer } from './udp.server';

const SENDER: RemoteInfo = { address: '127.0.0.1', family: 'IPv4', port: 50312, size: 0 };
/** An error envelope as a handler's exception filter makes it (the shape only matters to the bytes). */
const ENVELOPE = { code: 'VALIDATION_FAILED', message: 'text must be a string', details: { field: 'text' } } as unknown as RpcErrorEnvelope;
type Mode = 'sync' | 'promise';

/** What each fake handler answers, whatever the mode: the outcome `invoke` gives. */
const OUTCOMES: Record<string, (data: unknown) => CallOutcome> = {
  echo: (data) => ({ ok: true, response: data }),
  fail: () => ({ ok: false, error: ENVELOPE }),
  big: () => ({ ok: true, response: { text: 'b'.repeat(5000) } }),
  undef: () => ({ ok: true, response: undefined }),
  hello: () => ({ ok: true, response: { greeting: 'hi', n: 1 } }),
  command: (data) => ({ ok: true, response: { output: `ran ${(data as { name: string }).name}` } }),
  bigint: () => ({ ok: true, response: { n: 1n } }),
};

/**
 * The UDP server with `invoke` and `deliverEvent` answering at once (`sync`: a `CallOutcome`, as
 * the synchronous pipeline will) or through a promise (`promise`: as today). No socket traffic:
 * what it sends is kept.
 */
class OutcomeServer extends UdpServer {
  readonly sent: Buffer[] = [];
  readonly counted = { dropped: [] as UdpDropReason[], errors: [] as ErrorCode[], tooLarge: 0 };

  constructor(private readonly mode: Mode) {
    super(
      { host: '127.0.0.1', port: 0, maxDatagramBytes: 65_507 },
      {
        datagram: () => undefined,
        dropped: (reason) => this.counted.dropped.push(reason),
        replyTooLarge: () => (this.counted.tooLarge += 1),
        countError: (code) => this.counted.errors.push(code),
      },
    );
    jest.spyOn(this.unwrap<{ send: (bytes: Buffer) => void }>(), 'send').mockImplementation((bytes: Buffer) => {
      this.sent.push(Buffer.from(bytes));
    });
    Object.keys(OUTCOMES).forEach((pattern) => this.addHandler(pattern, jest.fn()));
    this.addHandler('note', jest.fn(), true);
  }

  protected override invoke(pattern: string, data: unknown): OutcomeNowOrLater {
    return this.now(OUTCOMES[pattern](data));
  }

  protected override deliverEvent(): OutcomeNowOrLater {
    return this.now(EVENT_HANDLED);
  }

  /** Hands one datagram to the server as its socket does; returns what `received` returned. */
  receive(message: Buffer | string): Promise<void> | undefined {
    return this.received(typeof message === 'string' ? Buffer.from(message, 'utf8') : message, SENDER);
  }

  private now(outcome: CallOutcome): OutcomeNowOrLater {
    return this.mode === 'sync' ? outcome : Promise.resolve(outcome);
  }
}

/**
 * Datagrams and the reply each got from the UDP door before issue 20 (the promise-only code, with
 * handlers giving the same outcomes), byte for byte; `null`: no reply.
 */
const BEFORE: Array<[request: string | Buffer, reply: string | Buffer | null]> = [
  [
    '{"pattern":"echo","data":{"text":"héllo \\u2028 😀"},"id":"a1"}',
    '{"id":"a1","response":{"text":"héllo \u2028 😀"},"isDisposed":true}',
  ],
  [
    ' {"pattern":"echo","data":{"text":"x"},"id":"id with \\"quote\\" é","metadata":{"traceparent":"00-x"}}',
    '{"id":"id with \\"quote\\" é","response":{"text":"x"},"isDisposed":true}',
  ],
  [
    '{"pattern":"fail","data":{},"id":"a2"}',
    '{"id":"a2","err":{"code":"VALIDATION_FAILED","message":"text must be a string","details":{"field":"text"}},"isDisposed":true}',
  ],
  [
    '{"pattern":"nothing","id":"a3"}',
    '{"id":"a3","err":"There is no matching message handler defined in the remote service.","isDisposed":true}',
  ],
  [
    '{"pattern":"big","id":"a4"}',
    '{"id":"a4","err":{"code":"REPLY_TOO_LARGE","message":"use TCP","details":{"replyBytes":5052,"allowedBytes":137}},"isDisposed":true}',
  ],
  ['{"pattern":"command","data":{"name":"time"},"id":"a5"}', '{"id":"a5","response":{"output":"ran time"},"isDisposed":true}'],
  ['{"pattern":"undef","id":"a6"}', '{"id":"a6","isDisposed":true}'],
  ['hello there\n', 'hello there\n'],
  ['héllo\r\n', 'héllo\n'],
  [iconv.encode('你好，世界\n', 'gbk'), iconv.encode('你好，世界\n', 'gbk')],
  ['/time\n', 'ran time\n'],
  ['/help\n', 'ERR REPLY_TOO_LARGE use TCP\n'],
  ['/call echo {"text":"called"}\n', '{"text":"called"}\n'],
  ['/call hello\n', '{"greeting":"hi","n":1}\n'],
  ['/emit note {"text":"n"}\n', 'OK\n'],
  // The contract's patterns, not a list: the add-a-pattern recipe adds one (test/docs-recipe.e2e-spec.ts).
  ['/call nosuch {}\n', `ERR UNKNOWN_PATTERN no request pattern "nosuch"; known: ${REQUEST_PATTERNS.join(', ')}\n`],
  ['/quit\n', 'bye\n'],
  ['/nonsense a b\n', 'ran nonsense\n'],
  ['\n', null],
  [Buffer.alloc(22, 0xff), 'ERR INVALID_TEXT the line is neither valid UTF-8 nor valid GBK (GB18030)\n'],
  ['fail\n', 'fail\n'],
];

const asBytes = (value: string | Buffer): Buffer => (typeof value === 'string' ? Buffer.from(value, 'utf8') : value);

describe('UdpServer with handlers that answer at once or later', () => {
  it.each(BEFORE.map(([request, reply], index) => [index, asBytes(request), reply === null ? null : asBytes(reply)] as const))(
    'datagram %i: the same reply bytes as before, sent in the same turn (sync) or once the promise settles (promise)',
    async (_index, request, reply) => {
      const sync = new OutcomeServer('sync');
      expect(sync.receive(request)).toBeUndefined(); // nothing left to wait for: answered within the call
      expect(sync.sent).toEqual(reply === null ? [] : [reply]);

      const later = new OutcomeServer('promise');
      const pending = later.receive(request);
      if (reply !== null && pending !== undefined) {
        expect(later.sent).toEqual([]); // the handler's promise has not settled yet
      }
      await pending;
      expect(later.sent).toEqual(reply === null ? [] : [reply]);
      expect(later.counted).toEqual(sync.counted);
      await Promise.all([sync.close(), later.close()]);
    },
  );

  it.each<Mode>(['sync', 'promise'])('counts the same in both modes (%s): REPLY_TOO_LARGE, errors the door found', async (mode) => {
    const server = new OutcomeServer(mode);
    for (const [request] of BEFORE) {
      await server.receive(request);
    }
    expect(server.counted).toEqual({ dropped: [], errors: ['UNKNOWN_PATTERN', 'INVALID_TEXT'], tooLarge: 2 });
    await server.close();
  });

  it('answers a datagram from the socket before the message event returns when the handler ran synchronously', async () => {
    const server = new OutcomeServer('sync');
    server.unwrap<NodeJS.EventEmitter>().emit('message', Buffer.from('{"pattern":"echo","data":{"text":"now"},"id":"n"}'), SENDER);
    expect(server.sent.map(String)).toEqual(['{"id":"n","response":{"text":"now"},"isDisposed":true}']);
    await server.close();
  });

  it.each<Mode>(['sync', 'promise'])('logs a datagram whose reply cannot be written (%s), and keeps serving', async (mode) => {
    const server = new OutcomeServer(mode);
    const logged = jest.spyOn((server as unknown as { logger: { error(message: string): void } }).logger, 'error').mockImplementation();
    server.unwrap<NodeJS.EventEmitter>().emit('message', Buffer.from('{"pattern":"bigint","id":"b"}'), SENDER);
    await new Promise((resolve) => setImmediate(resolve));
    expect(logged).toHaveBeenCalledWith(expect.stringMatching(/^datagram not answered: .*BigInt/));
    await server.receive('still here\n');
    expect(server.sent.map(String)).toEqual(['still here\n']);
    await server.close();
  });
});

describe.each([true, false])('UdpServer route lookup (fastPath %s)', (fastPath) => {
  const server = new UdpServer(
    { host: '127.0.0.1', port: 0, maxDatagramBytes: 1000, fastPath },
    {
      datagram: jest.fn(),
      dropped: jest.fn(),
      replyTooLarge: jest.fn(),
      countError: jest.fn(),
    },
  );
  const stock = new (class extends Server {
    listen(): void {}
    close(): void {}
    on(): void {}
    unwrap<T>(): T {
      return undefined as T;
    }
  })();
  const routeOf = (target: Server, pattern: string): string =>
    (target as unknown as { getRouteFromPattern(pattern: string): string }).getRouteFromPattern(pattern);

  afterAll(() => server.close());

  it('is decided once: stock as an own property with the fast path off', () => {
    expect(server.fastPath).toBe(fastPath);
    expect(Object.hasOwn(server, 'getRouteFromPattern')).toBe(!fastPath);
  });

  it.each([
    'echo',
    'command',
    'Echo',
    'a b',
    'x{"a":1}',
    '{"cmd":"x","b":2}',
    '{"b":2,"cmd":"x"}',
    '"echo"',
    ' echo',
    '[1,2]',
    '12',
    '-1',
    'true',
    'null',
    'nope',
    'fals',
    '{broken',
    '',
  ])('routes %j as stock Nest does', (pattern) => {
    expect(routeOf(server, pattern)).toBe(routeOf(stock, pattern));
  });
});
