import {
  type ArgumentMetadata,
  type ArgumentsHost,
  Catch,
  Controller,
  Injectable,
  Module,
  UseFilters,
  UseGuards,
  UseInterceptors,
  UsePipes,
  type CallHandler,
  type CanActivate,
  type ExecutionContext,
  type NestInterceptor,
  type PipeTransform,
  type RpcExceptionFilter,
} from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import {
  ClientProxyFactory,
  Ctx,
  MessagePattern,
  Payload,
  RpcException,
  ServerTCP,
  TcpContext,
  Transport,
  type ClientProxy,
  type TcpSocket,
} from '@nestjs/microservices';
import { once } from 'node:events';
import { createConnection, type AddressInfo, type Server as NetServer } from 'node:net';
import { firstValueFrom, from, lastValueFrom, map, Observable, of, Subject, tap, throwError, toArray } from 'rxjs';
import { framedJsonSocket, type SocketRejection } from '@echo-pair/common';
import { FakeNetSocket } from '../../../../../libs/common/src/transport/fake-net-socket';
import { EchoServerTcp, type EchoServerTcpOptions } from './echo-server-tcp';

/** Exposes the protected lookup of both classes, to compare them. */
function routeOf(server: ServerTCP, pattern: string): string {
  return (server as unknown as { getRouteFromPattern(pattern: string): string }).getRouteFromPattern(pattern);
}

/**
 * Everything runs in both modes: the fast paths (the default) and `fastPath: false`
 * (ECHO_FAST_PATH=false), where stock `ServerTCP` routes and dispatches behind the request rules.
 */
describe.each([
  { mode: 'fast path', fastPath: true },
  { mode: 'stock ServerTCP', fastPath: false },
])('EchoServerTcp ($mode)', ({ fastPath }) => {
  it('decides its path once, at construction: the stock methods are its own properties, the fast ones its prototype', () => {
    const server = new EchoServerTcp({ port: 0, fastPath });
    expect(server.fastPath).toBe(fastPath);
    expect(Object.hasOwn(server, 'handleMessage')).toBe(!fastPath);
    expect(Object.hasOwn(server, 'getRouteFromPattern')).toBe(!fastPath);
  });

  describe('route lookup', () => {
    const ours = new EchoServerTcp({ port: 0, fastPath });
    const stock = new ServerTCP({ port: 0 });

    it.each([
      'echo',
      'hello',
      'command',
      'note',
      'Echo',
      'my-pattern',
      'user.created',
      '{"cmd":"__not_in_contract__"}',
      '{"b":1,"a":2}',
      '["x"]',
      '"quoted"',
      '42',
      '-1',
      'true',
      'null',
      ' {"cmd":"x"}',
      '{not json',
      '',
    ])('routes %j exactly as the stock server does', (pattern) => {
      expect(routeOf(ours, pattern)).toBe(routeOf(stock, pattern));
    });

    it(fastPath ? 'does not try to parse a plain name' : 'tries to parse a plain name, as stock does', () => {
      const parse = jest.spyOn(JSON, 'parse');
      try {
        routeOf(ours, 'echo');
        expect(parse).toHaveBeenCalledTimes(fastPath ? 0 : 1);
      } finally {
        parse.mockRestore();
      }
    });
  });

  /**
   * The request rules, over the framed socket on a fake connection (`bindHandler`, as the server
   * does for each connection it accepts). `messages` are the frames the server took: delivered by
   * the socket, and not rejected.
   */
  describe('request rules', () => {
    type Frame = Record<string, unknown>;
    type Handler = (data: unknown) => unknown;

    function frame(message: unknown): Buffer {
      const json = JSON.stringify(message);
      return Buffer.from(`${json.length}#${json}`);
    }

    /** A few turns of the event loop: a stream's packets go out on the next tick, frames are read on after the flush. */
    const settle = () => new Promise<void>((resolve) => setImmediate(resolve));

    function serve(
      options: Pick<EchoServerTcpOptions, 'maxInFlight' | 'requirePattern'>,
      handlers: { requests?: Record<string, Handler>; events?: Record<string, Handler> } = {},
    ) {
      const rejections: SocketRejection[] = [];
      const server = new EchoServerTcp({
        port: 0,
        fastPath,
        ...options,
        socketClass: framedJsonSocket({ incompleteFrameTimeoutMs: 0, onRejection: (rejection) => rejections.push(rejection) }),
      });
      for (const [events, byPattern] of [
        [false, handlers.requests],
        [true, handlers.events],
      ] as const) {
        // As Nest builds them: a function of the data returning a promise, rejected when the handler throws.
        Object.entries(byPattern ?? {}).forEach(([pattern, handler]) =>
          server.addHandler(pattern, (data: unknown) => new Promise((resolve) => resolve(handler(data))), events),
        );
      }
      const raw = new FakeNetSocket();
      server.bindHandler(raw.asSocket());
      // After the server's own listener: a frame it rejected is not taken.
      const messages: Frame[] = [];
      raw.on('message', (message: Frame) => rejections.length === 0 && messages.push(message));
      return { server, raw, rejections, messages };
    }

    /** Frames as they went out, parsed. */
    function repliesOf(raw: FakeNetSocket): Frame[] {
      const text = raw.output().toString();
      const replies: Frame[] = [];
      for (let at = 0; at < text.length;) {
        const hash = text.indexOf('#', at);
        const length = Number(text.slice(at, hash));
        replies.push(JSON.parse(text.slice(hash + 1, hash + 1 + length)) as Frame);
        at = hash + 1 + length;
      }
      return replies;
    }

    it('leaves frames unread while maxInFlight requests await their handler, and reads on once one is answered', async () => {
      const answers: ((value: unknown) => void)[] = [];
      const { raw, messages } = serve({ maxInFlight: 2 }, { requests: { echo: () => new Promise((resolve) => answers.push(resolve)) } });

      raw.emit('data', Buffer.concat([1, 2, 3].map((id) => frame({ pattern: 'echo', data: {}, id: String(id) }))));
      expect(messages.map((m) => m.id)).toEqual(['1', '2']);
      expect(raw.paused).toBe(true);
      await settle();

      answers[0]('one');
      await settle();
      expect(messages.map((m) => m.id)).toEqual(['1', '2', '3']);
      expect(repliesOf(raw)).toEqual([{ response: 'one', isDisposed: true, id: '1' }]);
    });

    // With the stock path a request is in flight until stock `handleMessage` settles: for a stream, once it is
    // subscribed to (docs/performance.md). The fast path holds it until its final packet.
    (fastPath ? it : it.skip)('leaves frames unread while maxInFlight streams await their final packet (fast path)', async () => {
      const streams: Subject<unknown>[] = [];
      const { raw, messages } = serve(
        { maxInFlight: 2 },
        {
          requests: {
            echo: () => {
              const stream = new Subject<unknown>();
              streams.push(stream);
              return stream;
            },
          },
        },
      );

      raw.emit('data', Buffer.concat([1, 2, 3, 4].map((id) => frame({ pattern: 'echo', data: {}, id: String(id) }))));
      expect(messages.map((m) => m.id)).toEqual(['1', '2']);
      expect(raw.paused).toBe(true);
      await settle();

      streams[0].next('partial');
      await settle();
      expect(messages).toHaveLength(2);

      streams[0].complete();
      await settle();
      expect(messages.map((m) => m.id)).toEqual(['1', '2', '3']);

      streams[1].error('failed');
      await settle();
      expect(messages.map((m) => m.id)).toEqual(['1', '2', '3', '4']);
      expect(raw.paused).toBe(true); // 3 and 4 are in flight

      streams[2].complete();
      await settle();
      expect(raw.paused).toBe(false);
    });

    it('does not count events (frames without an id) as in flight', () => {
      const { raw, messages } = serve({ maxInFlight: 1 }, { events: { note: () => undefined } });

      raw.emit('data', Buffer.concat([frame({ pattern: 'note', data: {} }), frame({ pattern: 'note', data: {} })]));

      expect(messages).toHaveLength(2);
      expect(raw.paused).toBe(false);
    });

    it('rejects a frame without a pattern when the pattern is required (server side), and lets it through otherwise', () => {
      const server = serve({ requirePattern: true }, { requests: { '{"cmd":"x"}': () => 'x' }, events: { '7': () => undefined } });
      server.raw.emit(
        'data',
        Buffer.concat([frame({ pattern: { cmd: 'x' }, id: '1' }), frame({ pattern: 7 }), frame({ id: '2', data: {} })]),
      );
      expect(server.messages).toHaveLength(2);
      expect(server.rejections).toMatchObject([{ reason: 'NO_PATTERN' }]);

      // The framed socket alone (a client's) has no such rule.
      const raw = new FakeNetSocket();
      const client = { raw, messages: [] as Frame[], rejections: [] as SocketRejection[] };
      new (framedJsonSocket({ onRejection: (rejection) => client.rejections.push(rejection) }))(raw.asSocket());
      raw.on('message', (message: Frame) => client.messages.push(message));
      client.raw.emit('data', frame({ id: '2', response: {}, isDisposed: true }));
      expect(client.messages).toHaveLength(1);
      expect(client.rejections).toHaveLength(0);
    });

    it('rejects a request reusing the id of one still in flight', () => {
      const { raw, rejections } = serve({ maxInFlight: 8 }, { requests: { echo: () => new Promise(() => undefined) } });

      raw.emit('data', Buffer.concat([frame({ pattern: 'echo', id: 'same' }), frame({ pattern: 'echo', id: 'same' })]));

      expect(rejections).toMatchObject([{ reason: 'DUPLICATE_REQUEST_ID' }]);
    });

    it('lets an id be reused once its request has been answered', async () => {
      const { raw, rejections } = serve({ maxInFlight: 8 }, { requests: { echo: (data) => data } });

      raw.emit('data', frame({ pattern: 'echo', data: 1, id: 'same' }));
      await settle();
      raw.emit('data', frame({ pattern: 'echo', data: 2, id: 'same' }));
      await settle();

      expect(rejections).toHaveLength(0);
      expect(repliesOf(raw)).toEqual([
        { response: 1, isDisposed: true, id: 'same' },
        { response: 2, isDisposed: true, id: 'same' },
      ]);
    });

    it("ends a request at Nest's reply to a pattern without a handler, and at a handler's failure, which gets no reply", async () => {
      const { server, raw, messages } = serve(
        { maxInFlight: 1 },
        {
          requests: {
            broken: () => {
              throw new Error('boom');
            },
          },
        },
      );
      const failures: unknown[] = [];
      (server as unknown as { handleError(error: unknown): void }).handleError = (error) => failures.push(error);

      raw.emit(
        'data',
        Buffer.concat([
          frame({ pattern: 'nowhere', id: '1' }),
          frame({ pattern: 'broken', id: '2' }),
          frame({ pattern: 'nowhere', id: '3' }),
        ]),
      );
      expect(messages.map((m) => m.id)).toEqual(['1']);
      await settle();
      await settle();

      expect(messages.map((m) => m.id)).toEqual(['1', '2', '3']);
      expect(repliesOf(raw).map((reply) => reply.id)).toEqual(['1', '3']);
      expect(failures).toEqual([new Error('boom')]);
      expect(raw.paused).toBe(false);
    });

    it('needs the framed socket to enforce the rules', () => {
      expect(() => new EchoServerTcp({ port: 0, fastPath, maxInFlight: 4 })).toThrow(TypeError);
      expect(() => new EchoServerTcp({ port: 0, fastPath, requirePattern: true })).toThrow(TypeError);
      expect(() => new EchoServerTcp({ port: 0, fastPath })).not.toThrow();
    });
  });

  describe('connection hooks', () => {
    async function listening(
      options: EchoServerTcpOptions,
      note: (event: string) => void,
    ): Promise<{ server: EchoServerTcp; port: number }> {
      const server = new EchoServerTcp(
        { host: '127.0.0.1', port: 0, fastPath, framing: { incompleteFrameTimeoutMs: 0 }, ...options },
        {
          opened: (socket) => note(`opened ${socket.localAddress === undefined ? '' : (socket.remoteAddress ?? '')}`.trim()),
          refused: ({ limit, address, max }) => note(`refused ${limit} ${address} ${max}`),
          evicted: ({ address, setting }) => note(`evicted ${address} ${setting}`),
          rejected: ({ reason }) => note(`rejected ${reason}`),
          tlsRefused: () => note('tlsRefused'),
        },
      );
      await new Promise<void>((resolve, reject) => server.listen((error) => (error instanceof Error ? reject(error) : resolve())));
      return { server, port: (server.unwrap<NetServer>().address() as AddressInfo).port };
    }

    function recorder() {
      const events: string[] = [];
      const waiters: Record<string, () => void> = {};
      return {
        events,
        note: (event: string) => {
          events.push(event);
          waiters[event.split(' ')[0]]?.();
        },
        reported: (event: string) => new Promise<void>((resolve) => (waiters[event] = resolve)),
      };
    }

    it('reports the connections it admits, refuses past the per-address limit, and those its framed socket rejects', async () => {
      const { events, note, reported } = recorder();
      const { server, port } = await listening({ maxConnections: 10, maxConnectionsPerAddress: 1 }, note);
      const peers = [createConnection({ host: '127.0.0.1', port })];
      try {
        expect(server.security).toBe('TCP');
        await reported('opened');
        const refused = reported('refused');
        const second = createConnection({ host: '127.0.0.1', port });
        peers.push(second);
        const secondClosed = new Promise((resolve) => second.once('close', resolve));
        await refused;
        await secondClosed;
        const admitted = reported('opened');
        peers.push(createConnection({ host: '127.0.0.1', port, localAddress: '127.0.0.2' }));
        await admitted;
        const rejected = reported('rejected');
        peers[0].write('x#{}');
        await rejected;

        expect(events).toEqual([
          'opened 127.0.0.1',
          'refused MAX_CONNECTIONS_PER_ADDRESS 127.0.0.1 1',
          'opened 127.0.0.2',
          'rejected BAD_HEADER',
        ]);
      } finally {
        peers.forEach((peer) => peer.destroy());
        server.close();
      }
    });

    it('at maxConnections, closes the connection idle longest (no complete frame) for a newcomer', async () => {
      const { events, note, reported } = recorder();
      const { server, port } = await listening({ maxConnections: 2, requirePattern: true, framing: {} }, note);
      const first = createConnection({ host: '127.0.0.1', port });
      const second = createConnection({ host: '127.0.0.1', port, localAddress: '127.0.0.2' });
      const peers = [first, second];
      try {
        await reported('opened');
        await reported('opened');
        // The first speaks (an event frame: no reply), so the second is the one idle longest.
        const framed = JSON.stringify({ pattern: 'nobody-listens', data: {} });
        first.write(`${framed.length}#${framed}`);
        await new Promise((resolve) => setTimeout(resolve, 50));
        const secondClosed = new Promise((resolve) => second.once('close', resolve));
        const evicted = reported('evicted');
        peers.push(createConnection({ host: '127.0.0.1', port, localAddress: '127.0.0.3' }));
        await evicted;
        await secondClosed;
        expect(events).toEqual(['opened 127.0.0.1', 'opened 127.0.0.2', 'evicted 127.0.0.2 MAX_CONNECTIONS', 'opened 127.0.0.3']);
        expect(first.destroyed).toBe(false);
      } finally {
        peers.forEach((peer) => peer.destroy());
        server.close();
      }
    });
  });

  /**
   * The dispatch, side by side with stock ServerTCP: the same handler (as Nest builds them: an
   * async function of data and context), the same processing hooks, a socket that records what
   * is sent. Both must produce the same events in the same order and the same packets, to the
   * order of their keys (the JSON text on the wire).
   */
  describe('dispatch, against stock ServerTCP', () => {
    type Handler = (data: unknown, context: TcpContext) => Promise<unknown>;

    /** Each request's events in order, keyed by its id (its pattern for an event); a handler's events go by its pattern. */
    async function run(server: ServerTCP, handlers: Record<string, Handler>, packets: unknown[]): Promise<Record<string, string[]>> {
      const log: string[] = [];
      const stockish = server as unknown as {
        handleError(error: unknown): void;
        logger: { error(error: unknown): void };
      };
      stockish.handleError = (error) => log.push(`handleError ${String(error)}`);
      stockish.logger = { error: (error: unknown) => log.push(`logger.error ${String(error)}`) };
      for (const [pattern, handler] of Object.entries(handlers)) {
        server.addHandler(
          pattern,
          async (data: unknown, context: TcpContext) => {
            log.push(
              `handler ${JSON.stringify(data)} ${context instanceof TcpContext} ${context.getPattern()} ${JSON.stringify(context.getMetadata())}`,
            );
            return handler(data, context);
          },
          false,
        );
      }
      // As DrainService does: Nest passes on what the hook returns (its default returns `done()`).
      // eslint-disable-next-line @typescript-eslint/no-misused-promises
      server.setOnProcessingStartHook((_transport, context, done) => {
        log.push(`start ${(context as TcpContext).getPattern()}`);
        return done();
      });
      server.setOnProcessingEndHook((_transport, context) => log.push(`end ${(context as TcpContext).getPattern()}`));
      const socket = { sendMessage: (message: unknown) => log.push(`send ${JSON.stringify(message)}`) } as unknown as TcpSocket;
      for (const packet of packets as { pattern: unknown; id?: string }[]) {
        const tag = packet.id ?? JSON.stringify(packet.pattern);
        void server.handleMessage(socket, packet).then(
          () => log.push(`settled ${tag}`),
          (error: unknown) => log.push(`rejected ${tag} ${String(error)}`),
        );
      }
      for (let i = 0; i < 5; i += 1) {
        await new Promise((resolve) => setImmediate(resolve));
      }
      return byRequest(log, packets as { pattern: unknown; id?: string }[]);
    }

    /**
     * Splits the log by request: requests in flight together interleave at the level of
     * microtasks, where stock ServerTCP has about ten more per request; what a peer can
     * observe is each request's own sequence, and the order of the packets of each.
     */
    function byRequest(log: string[], packets: { pattern: unknown; id?: string }[]): Record<string, string[]> {
      const result: Record<string, string[]> = { all_sends: log.filter((line) => line.startsWith('send')) };
      for (const packet of packets) {
        const pattern = typeof packet.pattern === 'string' ? packet.pattern : JSON.stringify(packet.pattern);
        const tag = packet.id ?? JSON.stringify(packet.pattern);
        result[tag] = log.filter(
          (line) =>
            line.endsWith(` ${pattern}`) ||
            line.includes(` ${pattern} `) ||
            line.startsWith(`settled ${tag}`) ||
            line.startsWith(`rejected ${tag}`) ||
            (packet.id !== undefined && line.startsWith('send') && line.includes(`"id":${JSON.stringify(packet.id)}`)),
        );
      }
      return result;
    }

    async function expectSameAsStock(handlers: Record<string, Handler>, packets: unknown[]): Promise<Record<string, string[]>> {
      const stock = await run(new ServerTCP({ port: 0 }), handlers, packets);
      const ours = await run(new EchoServerTcp({ port: 0, fastPath }), handlers, packets);
      expect(ours).toEqual(stock);
      return ours;
    }

    it('replies to a plain result with one packet, after the end hook, as stock does', async () => {
      const log = await expectSameAsStock({ echo: (data) => Promise.resolve({ echoed: data }) }, [
        { pattern: 'echo', data: { text: 'hi' }, id: '1' },
      ]);
      expect(log['1']).toEqual([
        'start echo',
        'handler {"text":"hi"} true echo undefined',
        'end echo',
        'settled 1',
        'send {"response":{"echoed":{"text":"hi"}},"isDisposed":true,"id":"1"}',
      ]);
    });

    it.each([
      ['undefined', undefined],
      ['null', null],
      ['a string', 'text'],
      ['a number', 0],
      ['an array', [1, 'a']],
      ['false', false],
    ])('replies to %s as stock does', async (_label, value) => {
      await expectSameAsStock({ echo: () => Promise.resolve(value) }, [{ pattern: 'echo', data: 1, id: 'x' }]);
    });

    it('streams an observable result, errors included, through stock send', async () => {
      const log = await expectSameAsStock(
        {
          many: () => Promise.resolve(of(1, 2, 3)),
          failing: () => Promise.resolve(throwError(() => ({ status: 'error', message: 'bad' }))),
          later: () => Promise.resolve(from(Promise.resolve('late'))),
          half: () =>
            Promise.resolve(
              new Observable((subscriber) => {
                subscriber.next('first');
                subscriber.error(new Error('then broken'));
              }),
            ),
        },
        [
          { pattern: 'many', data: null, id: 'a' },
          { pattern: 'failing', data: null, id: 'b' },
          { pattern: 'later', data: null, id: 'c' },
          { pattern: 'half', data: null, id: 'd' },
        ],
      );
      expect(log.all_sends).toHaveLength(7);
    });

    it('ends the span and rejects when the handler rejects, replying nothing, as stock does', async () => {
      const log = await expectSameAsStock(
        {
          broken: () => Promise.reject(new Error('boom')),
        },
        [{ pattern: 'broken', data: {}, id: '7' }],
      );
      expect(log['7']).toEqual(['start broken', 'handler {} true broken undefined', 'end broken', 'rejected 7 Error: boom']);
    });

    it('keeps the order of replies of several requests dispatched together', async () => {
      const slowFirst = async (data: unknown) => {
        if (data === 0) await new Promise((resolve) => setImmediate(resolve));
        return data;
      };
      const log = await expectSameAsStock(
        { echo: slowFirst },
        Array.from({ length: 5 }, (_, i) => ({ pattern: 'echo', data: i, id: String(i) })),
      );
      expect(log.all_sends.map((line) => (JSON.parse(line.slice(5)) as { id: string }).id)).toEqual(['1', '2', '3', '4', '0']);
    });

    it('passes the metadata and a structured pattern as stock does', async () => {
      await expectSameAsStock({ '{"cmd":"__not_in_contract__"}': (data) => Promise.resolve(data) }, [
        { pattern: { cmd: '__not_in_contract__' }, data: [1, 2], id: 's', metadata: { trace: 't1' } },
      ]);
    });

    it('answers a request without a handler, and handles events, as stock does', async () => {
      const log = await expectSameAsStock({ seen: () => Promise.resolve('ignored') }, [
        { pattern: 'nowhere', data: 1, id: 'n' },
        { pattern: 'seen', data: 'event' },
        { pattern: 'unheard', data: 'event' },
      ]);
      expect(log.all_sends).toEqual([
        'send {"id":"n","status":"error","err":"There is no matching message handler defined in the remote service."}',
      ]);
    });

    it('rejects instead of throwing when a processing hook throws', async () => {
      const server = new EchoServerTcp({ port: 0, fastPath });
      server.addHandler('echo', () => Promise.resolve('x'), false);
      server.setOnProcessingStartHook(() => {
        throw new Error('hook failed');
      });
      const socket = { sendMessage: jest.fn() } as unknown as TcpSocket;
      await expect(server.handleMessage(socket, { pattern: 'echo', data: 1, id: '1' })).rejects.toThrow('hook failed');
    });

    it('awaits a custom deserializer, as stock does', async () => {
      const deserializer = { deserialize: (value: unknown) => Promise.resolve({ ...(value as object), data: 'from deserializer' }) };
      const handlers = { echo: (data: unknown) => Promise.resolve(data) };
      const packets = [{ pattern: 'echo', data: 'raw', id: 'q' }];
      const stock = await run(new ServerTCP({ port: 0, deserializer }), handlers, packets);
      const ours = await run(new EchoServerTcp({ port: 0, fastPath, deserializer }), handlers, packets);
      expect(ours).toEqual(stock);
      expect(ours.all_sends).toEqual(['send {"response":"from deserializer","isDisposed":true,"id":"q"}']);
    });

    it('uses the configured serializer for a plain result', async () => {
      const serializer = { serialize: (value: { id: string }) => ({ ...value, serializedBy: 'custom' }) };
      const handlers = { echo: (data: unknown) => Promise.resolve(data) };
      const packets = [{ pattern: 'echo', data: 'raw', id: 'z' }];
      const stock = await run(new ServerTCP({ port: 0, serializer }), handlers, packets);
      const ours = await run(new EchoServerTcp({ port: 0, fastPath, serializer }), handlers, packets);
      expect(ours).toEqual(stock);
      expect(ours.all_sends).toEqual(['send {"response":"raw","isDisposed":true,"id":"z","serializedBy":"custom"}']);
    });
  });

  /**
   * A user's own guard, interceptor, pipe and exception filter on a handler of an ordinary Nest
   * controller: each runs, in Nest's order, and the client gets the same replies, on EchoServerTcp
   * as on stock ServerTCP, over a real socket.
   */
  describe('a Nest application with guards, interceptors, pipes and filters', () => {
    const trace: string[] = [];

    @Injectable()
    class RecordingGuard implements CanActivate {
      canActivate(context: ExecutionContext): boolean {
        const data = context.switchToRpc().getData<{ text?: string }>();
        trace.push(`guard ${context.getHandler().name}`);
        return data?.text !== 'forbidden';
      }
    }

    @Injectable()
    class RecordingInterceptor implements NestInterceptor {
      intercept(context: ExecutionContext, next: CallHandler): Observable<unknown> {
        trace.push(`interceptor before ${context.getType()}`);
        return next.handle().pipe(
          tap({ next: () => trace.push('interceptor after'), error: () => trace.push('interceptor saw error') }),
          map((value: unknown) => (typeof value === 'object' && value !== null ? { ...value, intercepted: true } : value)),
        );
      }
    }

    @Injectable()
    class RecordingPipe implements PipeTransform {
      transform(value: unknown, metadata: ArgumentMetadata): unknown {
        if (metadata.type !== 'body') {
          return value; // the @Ctx() parameter
        }
        trace.push('pipe');
        if (typeof value === 'object' && value !== null && (value as { text?: unknown }).text === 'invalid') {
          throw new RpcException({ code: 'PIPE_REJECTED' });
        }
        return typeof value === 'object' && value !== null ? { ...value, piped: true } : value;
      }
    }

    @Catch()
    class RecordingFilter implements RpcExceptionFilter<unknown> {
      catch(exception: unknown, host: ArgumentsHost): Observable<never> {
        trace.push(`filter ${exception instanceof RpcException ? JSON.stringify(exception.getError()) : String(exception)}`);
        const context = host.switchToRpc().getContext<unknown>();
        return throwError(() => ({ filtered: true, tcpContext: context instanceof TcpContext }));
      }
    }

    @Controller()
    @UseFilters(RecordingFilter)
    class RecordingController {
      @MessagePattern('decorated')
      @UseGuards(RecordingGuard)
      @UseInterceptors(RecordingInterceptor)
      @UsePipes(RecordingPipe)
      decorated(@Payload() data: { text: string }, @Ctx() context: TcpContext): unknown {
        trace.push(`handler ${JSON.stringify(data)}`);
        if (data.text === 'throw') {
          throw new Error('handler failed');
        }
        return { ...data, pattern: context.getPattern() };
      }

      @MessagePattern('stream')
      stream(): Observable<number> {
        trace.push('stream handler');
        return of(1, 2, 3);
      }

      @MessagePattern('async')
      async later(@Payload() data: number): Promise<number> {
        await new Promise((resolve) => setImmediate(resolve));
        return data * 2;
      }
    }

    @Module({ controllers: [RecordingController], providers: [RecordingGuard, RecordingInterceptor, RecordingPipe] })
    class RecordingModule {}

    async function exercise(strategy: ServerTCP): Promise<{ trace: string[]; replies: unknown[] }> {
      trace.length = 0;
      const app = await NestFactory.createMicroservice(RecordingModule, { strategy, logger: false });
      await app.listen();
      const { port } = strategy.unwrap<NetServer>().address() as AddressInfo;
      const client: ClientProxy = ClientProxyFactory.create({ transport: Transport.TCP, options: { host: '127.0.0.1', port } });
      const replies: unknown[] = [];
      const call = async (pattern: string, data: unknown, all = false): Promise<void> => {
        const reply$ = client.send(pattern, data);
        try {
          replies.push(all ? await lastValueFrom(reply$.pipe(toArray())) : await firstValueFrom(reply$));
        } catch (error) {
          replies.push({ error });
        }
        trace.push('---');
      };
      try {
        await client.connect();
        await call('decorated', { text: 'ok' });
        await call('decorated', { text: 'forbidden' });
        await call('decorated', { text: 'invalid' });
        await call('decorated', { text: 'throw' });
        await call('stream', 0, true);
        await call('async', 21);
        await call('missing', 1);
      } finally {
        await client.close();
        await app.close();
      }
      return { trace: [...trace], replies };
    }

    it('runs each of them, in the same order, with the same replies, as on stock ServerTCP', async () => {
      const stock = await exercise(new ServerTCP({ host: '127.0.0.1', port: 0 }));
      const ours = await exercise(new EchoServerTcp({ host: '127.0.0.1', port: 0, fastPath }));
      expect(ours).toEqual(stock);
      // Nest's order: guard, interceptor, pipe, handler, interceptor; the filter on any failure.
      expect(ours.trace.slice(0, ours.trace.indexOf('---'))).toEqual([
        'guard decorated',
        'interceptor before rpc',
        'pipe',
        'handler {"text":"ok","piped":true}',
        'interceptor after',
      ]);
      expect(ours.replies).toEqual([
        { text: 'ok', piped: true, pattern: 'decorated', intercepted: true },
        { error: { filtered: true, tcpContext: true } },
        { error: { filtered: true, tcpContext: true } },
        { error: { filtered: true, tcpContext: true } },
        [1, 2, 3],
        42,
        { error: 'There is no matching message handler defined in the remote service.' },
      ]);
      expect(ours.trace).toContain('filter "Forbidden resource"');
      expect(ours.trace).toContain('filter {"code":"PIPE_REJECTED"}');
      expect(ours.trace).toContain('filter Error: handler failed');
    });

    it('writes the same bytes on the wire as stock ServerTCP', async () => {
      const wireOf = async (strategy: ServerTCP): Promise<string> => {
        const app = await NestFactory.createMicroservice(RecordingModule, { strategy, logger: false });
        await app.listen();
        const { port } = strategy.unwrap<NetServer>().address() as AddressInfo;
        const socket = createConnection({ host: '127.0.0.1', port });
        await once(socket, 'connect');
        let received = '';
        socket.setEncoding('utf8');
        socket.on('data', (chunk: string) => (received += chunk));
        const requests = [
          { pattern: 'decorated', data: { text: 'ok' }, id: '1' },
          { pattern: 'decorated', data: { text: 'forbidden' }, id: '2' },
          { pattern: 'stream', data: null, id: '3' },
          { pattern: 'async', data: 2, id: '4' },
          { pattern: 'missing', data: 1, id: '5' },
        ];
        // One at a time, each after its last packet: the order of the replies is fixed.
        for (const request of requests) {
          const json = JSON.stringify(request);
          socket.write(`${json.length}#${json}`);
          const last = new RegExp(`"isDisposed":true,"id":"${request.id}"|"id":"${request.id}","status":"error"`);
          for (const deadline = Date.now() + 5_000; !last.test(received) && Date.now() < deadline;) {
            await new Promise((resolve) => setTimeout(resolve, 2));
          }
        }
        socket.destroy();
        await app.close();
        return received;
      };
      const stock = await wireOf(new ServerTCP({ host: '127.0.0.1', port: 0 }));
      const ours = await wireOf(new EchoServerTcp({ host: '127.0.0.1', port: 0, fastPath }));
      expect(ours).toBe(stock);
      expect(ours).toContain('"response":{"text":"ok","piped":true,"pattern":"decorated","intercepted":true},"isDisposed":true,"id":"1"');
    });
  });
});
