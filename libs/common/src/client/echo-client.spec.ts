import { ClientProxyFactory, type ClientProxy, type ReadPacket } from '@nestjs/microservices';
import { context, SpanKind, SpanStatusCode, trace, type Span } from '@opentelemetry/api';
import { InMemorySpanExporter } from '@opentelemetry/sdk-trace';
import { EventEmitter } from 'node:events';
import { Socket } from 'node:net';
import { EMPTY, EmptyError, NEVER, Observable, of, Subject, throwError } from 'rxjs';
import type { RpcErrorEnvelope } from '../contract/error-envelope';
import { DEFAULT_CALL_TIMEOUT_MS } from './echo-client-options';
import { CLOSE_GRACE_MS } from '../transport/destroy-unless-closed';
import { EchoClient } from './echo-client';
import { EchoClientTcp } from './echo-client-tcp';
import { RpcClientError } from './rpc-client.error';
import { FramedJsonSocket } from '../transport/framed-json-socket';
import { startTracing, type Tracing } from '../operations/tracing/start-tracing';
import { injectTraceContext } from '../transport/trace-context/trace-metadata';
import { activeTracer } from '../transport/trace-context/tracing-state';
import { expectLogged } from '../../../../test/support/captured-logs';

/** A socket as `close()` sees it: it can be destroyed, and it says when it has closed. */
class FakeSocket extends EventEmitter {
  destroyed = false;
  readonly destroy = jest.fn(() => {
    this.destroyed = true;
    this.emit('close', false);
    return this;
  });
}

/**
 * A stand-in for Nest's `ClientProxy`: `send` and `emit` answer with `reply(pattern, data)`.
 * Like `ClientTCP`, it forgets its socket on `close()`, and `unwrap()` throws when there is none.
 */
class FakeProxy {
  socket?: FakeSocket;
  reply: (pattern: string, data: unknown) => Observable<unknown> = (pattern, data) => of({ pattern, data });
  readonly send = jest.fn((pattern: string, data: unknown) => this.reply(pattern, data));
  readonly emit = jest.fn((pattern: string, data: unknown) => this.reply(pattern, data));
  readonly connect = jest.fn(() => Promise.resolve());
  readonly setOnDispatchHook = jest.fn();
  readonly close = jest.fn(() => {
    this.socket = undefined;
    return Promise.resolve();
  });
  readonly unwrap = jest.fn(() => {
    if (!this.socket) {
      throw new Error('Not initialized. Please call the "connect" method first.');
    }
    return this.socket;
  });

  asClientProxy(): ClientProxy {
    return this as unknown as ClientProxy;
  }
}

/** Resolves or rejects like `promise`, and says at once whether it has settled yet. */
function track<T>(promise: Promise<T>): { promise: Promise<T>; settled: () => boolean } {
  let settled = false;
  promise.then(
    () => (settled = true),
    () => (settled = true),
  );
  return { promise, settled: () => settled };
}

describe('EchoClient', () => {
  let proxy: FakeProxy;
  let client: EchoClient;

  beforeEach(() => {
    proxy = new FakeProxy();
    client = new EchoClient(proxy.asClientProxy(), { timeoutMs: 1_000 });
  });

  afterEach(() => {
    jest.useRealTimers();
    jest.restoreAllMocks();
  });

  describe('typed calls', () => {
    it.each([
      { method: 'hello', call: (c: EchoClient) => c.hello({ client: 'unit' }), pattern: 'hello', payload: { client: 'unit' } },
      { method: 'hello without a request', call: (c: EchoClient) => c.hello(), pattern: 'hello', payload: {} },
      { method: 'echo', call: (c: EchoClient) => c.echo({ text: '你好 👋' }), pattern: 'echo', payload: { text: '你好 👋' } },
      {
        method: 'command',
        call: (c: EchoClient) => c.command({ name: 'upper', args: ['hi'] }),
        pattern: 'command',
        payload: { name: 'upper', args: ['hi'] },
      },
      { method: 'send', call: (c: EchoClient) => c.send('echo', { text: 'raw' }), pattern: 'echo', payload: { text: 'raw' } },
    ])('$method sends its pattern and payload and resolves with the reply', async ({ call, pattern, payload }) => {
      await expect(call(client)).resolves.toEqual({ pattern, data: payload });

      expect(proxy.send).toHaveBeenCalledTimes(1);
      expect(proxy.send).toHaveBeenCalledWith(pattern, payload);
      expect(proxy.emit).not.toHaveBeenCalled();
    });

    it('note emits the note event and resolves with nothing, whatever the transport emitted', async () => {
      await expect(client.note({ text: 'remember', author: 'unit' })).resolves.toBeUndefined();

      expect(proxy.emit).toHaveBeenCalledWith('note', { text: 'remember', author: 'unit' });
      expect(proxy.send).not.toHaveBeenCalled();
    });

    it('emit resolves once the transport completes without a value', async () => {
      proxy.reply = () => EMPTY;

      await expect(client.emit('note', { text: 'x' })).resolves.toBeUndefined();
    });

    it('connect opens the connection through the proxy', async () => {
      await expect(client.connect()).resolves.toBeUndefined();

      expect(proxy.connect).toHaveBeenCalledTimes(1);
    });
  });

  describe('payloads', () => {
    it.each([
      { label: 'send with null', call: (c: EchoClient) => c.send('echo', null as never), pattern: 'echo' },
      { label: 'send with undefined', call: (c: EchoClient) => c.send('command', undefined as never), pattern: 'command' },
      { label: 'emit with null', call: (c: EchoClient) => c.emit('note', null as never), pattern: 'note' },
      { label: 'note with undefined', call: (c: EchoClient) => c.note(undefined as never), pattern: 'note' },
    ])('$label rejects with NOT_SENT and calls nothing', async ({ call, pattern }) => {
      const error = await call(client).catch((reason: unknown) => reason);

      expect(error).toBeInstanceOf(RpcClientError);
      expect(error).toMatchObject({
        code: 'NOT_SENT',
        pattern,
        message: `not sent: "${pattern}" needs a payload object, got null or undefined`,
      });
      expect(proxy.send).not.toHaveBeenCalled();
      expect(proxy.emit).not.toHaveBeenCalled();
    });
  });

  describe('failures', () => {
    it('rejects with the envelope when the server replies with one', async () => {
      const envelope: RpcErrorEnvelope = {
        code: 'VALIDATION_FAILED',
        message: 'invalid request',
        details: { violations: [{ field: 'text', constraints: { isString: 'text must be a string' } }] },
      };
      proxy.reply = () => throwError(() => envelope);

      const error = await client.echo({ text: 'x' }).catch((reason: unknown) => reason);

      expect(error).toBeInstanceOf(RpcClientError);
      expect(error).toMatchObject({ code: 'VALIDATION_FAILED', message: 'invalid request', pattern: 'echo' });
      expect((error as RpcClientError).envelope).toEqual(envelope);
    });

    it.each([
      {
        label: 'a refused connection',
        cause: Object.assign(new Error('connect ECONNREFUSED'), { code: 'ECONNREFUSED' }),
        code: 'CONNECTION_FAILED',
      },
      { label: 'a lost connection', cause: new Error('Connection closed'), code: 'CONNECTION_LOST' },
      {
        label: 'an unknown pattern',
        cause: 'There is no matching message handler defined in the remote service.',
        code: 'UNKNOWN_PATTERN',
      },
    ])('maps $label to $code for requests and events', async ({ cause, code }) => {
      proxy.reply = () => throwError(() => cause);

      await expect(client.command({ name: 'time' })).rejects.toMatchObject({ code, pattern: 'command' });
      await expect(client.note({ text: 'x' })).rejects.toMatchObject({ code, pattern: 'note' });
    });

    it('maps a failure to connect', async () => {
      proxy.connect.mockRejectedValueOnce(Object.assign(new Error('connect ECONNREFUSED 127.0.0.1:1'), { code: 'ECONNREFUSED' }));

      await expect(client.connect()).rejects.toMatchObject({ code: 'CONNECTION_FAILED', pattern: 'connect' });

      // The client now reconnects in the background: connecting now ends that here, instead of
      // in whichever later test its backoff timer fires.
      await client.connect();
      expectLogged('log', 'reconnected to the server after 2 attempt(s)', { times: 1, context: 'EchoClient' });
    });
  });

  describe('timeouts', () => {
    beforeEach(() => {
      jest.useFakeTimers();
      proxy.reply = () => NEVER;
    });

    it.each([
      { label: "the client's default", options: undefined, timeoutMs: 1_000 },
      { label: 'the per-call timeout', options: { timeoutMs: 50 }, timeoutMs: 50 },
      { label: 'a per-call timeout longer than the default', options: { timeoutMs: 3_000 }, timeoutMs: 3_000 },
    ])('rejects a request with TIMEOUT after $label', async ({ options, timeoutMs }) => {
      const call = track(client.echo({ text: 'x' }, options));

      await jest.advanceTimersByTimeAsync(timeoutMs - 1);
      expect(call.settled()).toBe(false);
      await jest.advanceTimersByTimeAsync(1);

      await expect(call.promise).rejects.toBeInstanceOf(RpcClientError);
      await expect(call.promise).rejects.toMatchObject({
        code: 'TIMEOUT',
        pattern: 'echo',
        message: `no reply to "echo" within ${timeoutMs} ms`,
      });
    });

    it('waits DEFAULT_CALL_TIMEOUT_MS when the client was given no timeout', async () => {
      const call = track(new EchoClient(proxy.asClientProxy()).hello());

      await jest.advanceTimersByTimeAsync(DEFAULT_CALL_TIMEOUT_MS - 1);
      expect(call.settled()).toBe(false);
      await jest.advanceTimersByTimeAsync(1);

      await expect(call.promise).rejects.toMatchObject({
        code: 'TIMEOUT',
        message: `no reply to "hello" within ${DEFAULT_CALL_TIMEOUT_MS} ms`,
      });
    });

    it('bounds an event the transport never hands over too', async () => {
      const pending = track(client.note({ text: 'x' }, { timeoutMs: 20 }));

      await jest.advanceTimersByTimeAsync(20);

      await expect(pending.promise).rejects.toMatchObject({ code: 'TIMEOUT', pattern: 'note' });
    });

    it('bounds a connection that never opens too', async () => {
      proxy.connect.mockReturnValue(new Promise(() => undefined));
      const pending = track(client.connect({ timeoutMs: 20 }));

      await jest.advanceTimersByTimeAsync(20);

      await expect(pending.promise).rejects.toMatchObject({ code: 'TIMEOUT', pattern: 'connect' });
    });

    it('fails a call that waited its whole timeout for a connection that never opened with CONNECTION_FAILED', async () => {
      proxy.connect.mockReturnValue(new Promise(() => undefined));
      const pending = track(client.note({ text: 'x' }, { timeoutMs: 20 }));

      await jest.advanceTimersByTimeAsync(20);

      await expect(pending.promise).rejects.toMatchObject({
        code: 'CONNECTION_FAILED',
        retryable: true,
        pattern: 'note',
        message: expect.stringMatching(/^not connected to the server within 20 ms \(connecting/) as unknown,
      });
      expect(proxy.emit).not.toHaveBeenCalled();
    });

    it('does not time out a reply that came in time', async () => {
      proxy.reply = (pattern, data) => of({ pattern, data });

      await expect(client.echo({ text: 'quick' }, { timeoutMs: 10 })).resolves.toEqual({ pattern: 'echo', data: { text: 'quick' } });
      expect(jest.getTimerCount()).toBe(0);
    });
  });

  describe('on an open connection (the direct path)', () => {
    beforeEach(async () => {
      await client.connect();
      expect(client.connectionInfo().state).toBe('connected');
    });

    it('resolves with the last value once the reply completes, leaving no timer', async () => {
      jest.useFakeTimers();
      proxy.reply = () => of('first', 'last');

      await expect(client.send('echo', { text: 'x' })).resolves.toBe('last');
      await expect(client.note({ text: 'x' })).resolves.toBeUndefined();
      expect(jest.getTimerCount()).toBe(0);
    });

    it('rejects a request with TIMEOUT after its timeout, and unsubscribes from the transport', async () => {
      jest.useFakeTimers();
      const teardown = jest.fn();
      proxy.reply = () => new Observable(() => teardown);
      const call = track(client.echo({ text: 'x' }, { timeoutMs: 50 }));

      await jest.advanceTimersByTimeAsync(49);
      expect(call.settled()).toBe(false);
      expect(teardown).not.toHaveBeenCalled();
      await jest.advanceTimersByTimeAsync(1);

      await expect(call.promise).rejects.toMatchObject({ code: 'TIMEOUT', message: 'no reply to "echo" within 50 ms' });
      expect(teardown).toHaveBeenCalledTimes(1);
    });

    it('maps a failure, whether the transport reports it or throws it', async () => {
      proxy.reply = () => throwError(() => new Error('Connection closed'));
      await expect(client.echo({ text: 'x' })).rejects.toMatchObject({ code: 'CONNECTION_LOST', pattern: 'echo' });

      proxy.send.mockImplementationOnce(() => {
        throw Object.assign(new Error('write EPIPE'), { code: 'EPIPE' });
      });
      await expect(client.echo({ text: 'x' })).rejects.toMatchObject({ code: 'CONNECTION_FAILED', pattern: 'echo' });
    });

    it('rejects a request that completes without a reply, as lastValueFrom does', async () => {
      proxy.reply = () => EMPTY;

      await expect(client.echo({ text: 'x' })).rejects.toBeInstanceOf(EmptyError);
    });

    it('fails a call in flight with CONNECTION_CLOSED when the client is closed', async () => {
      const inFlight = new Subject<unknown>();
      proxy.reply = () => inFlight;
      const call = client.echo({ text: 'x' });

      await client.close();
      inFlight.error(new Error('Connection closed'));

      await expect(call).rejects.toMatchObject({ code: 'CONNECTION_CLOSED', pattern: 'echo' });
    });
  });

  describe('close', () => {
    beforeEach(() => {
      jest.useFakeTimers();
    });

    it('closes a client that never connected, leaving no timer', async () => {
      await client.close();

      expect(proxy.close).toHaveBeenCalledTimes(1);
      expect(jest.getTimerCount()).toBe(0);
    });

    it('destroys the socket when the peer has not closed it after CLOSE_GRACE_MS', async () => {
      const socket = (proxy.socket = new FakeSocket());

      await client.close();
      expect(proxy.close).toHaveBeenCalledTimes(1);
      jest.advanceTimersByTime(CLOSE_GRACE_MS - 1);
      expect(socket.destroy).not.toHaveBeenCalled();
      jest.advanceTimersByTime(1);

      expect(socket.destroy).toHaveBeenCalledTimes(1);
    });

    it('leaves alone a socket that closed within CLOSE_GRACE_MS', async () => {
      const socket = (proxy.socket = new FakeSocket());

      await client.close();
      socket.emit('close', false);
      expect(jest.getTimerCount()).toBe(0);
      jest.advanceTimersByTime(CLOSE_GRACE_MS * 2);

      expect(socket.destroy).not.toHaveBeenCalled();
    });

    it('sets no timer for a socket destroyed already', async () => {
      const socket = (proxy.socket = new FakeSocket());
      socket.destroyed = true;

      await client.close();

      expect(jest.getTimerCount()).toBe(0);
      expect(socket.destroy).not.toHaveBeenCalled();
    });

    it('closes on application shutdown', async () => {
      const socket = (proxy.socket = new FakeSocket());

      await client.onApplicationShutdown();
      jest.advanceTimersByTime(CLOSE_GRACE_MS);

      expect(proxy.close).toHaveBeenCalledTimes(1);
      expect(socket.destroy).toHaveBeenCalledTimes(1);
    });
  });

  describe('call listener (onCall)', () => {
    let calls: Array<[string, string, number]>;

    beforeEach(() => {
      calls = [];
      client = new EchoClient(proxy.asClientProxy(), { timeoutMs: 1_000, onCall: (...call) => calls.push(call) });
    });

    it('is told of each call once it has ended: pattern, outcome and seconds', async () => {
      await client.echo({ text: 'x' });
      await client.note({ text: 'y' });
      proxy.reply = () => throwError(() => ({ code: 'UNKNOWN_COMMAND', message: 'no', details: { command: 'x', knownCommands: [] } }));
      await client.command({ name: 'x' }).catch(() => undefined);
      await client.send('echo', null as never).catch(() => undefined);

      expect(calls).toEqual([
        ['echo', 'ok', expect.any(Number)],
        ['note', 'ok', expect.any(Number)],
        ['command', 'UNKNOWN_COMMAND', expect.any(Number)],
        ['echo', 'NOT_SENT', expect.any(Number)],
      ]);
      expect(calls.every(([, , seconds]) => seconds >= 0 && seconds < 1)).toBe(true);
    });

    it('times a call from the call to its end, waits included', async () => {
      jest.useFakeTimers();
      proxy.reply = () => NEVER;
      const call = track(client.echo({ text: 'x' }));
      await jest.advanceTimersByTimeAsync(1_000);
      await call.promise.catch(() => undefined);

      expect(calls).toEqual([['echo', 'TIMEOUT', expect.closeTo(1, 1) as unknown]]);
    });

    it('cannot turn a reply into a failure by throwing', async () => {
      client = new EchoClient(proxy.asClientProxy(), {
        onCall: () => {
          throw new Error('listener bug');
        },
      });

      await expect(client.echo({ text: 'x' })).resolves.toEqual({ pattern: 'echo', data: { text: 'x' } });
    });
  });

  describe('tracing', () => {
    // A provider's shutdown shuts its exporter down: one per test.
    let exporter: InMemorySpanExporter;
    let tracing: Tracing | undefined;
    /** The span active when the proxy made each packet (subscribed to `send`/`emit`), as the dispatch hook would see it. */
    let activeAtDispatch: Array<Span | undefined>;

    beforeEach(() => {
      activeAtDispatch = [];
      exporter = new InMemorySpanExporter();
      const answer = proxy.reply;
      proxy.reply = (pattern, data) =>
        new Observable((subscriber) => {
          activeAtDispatch.push(trace.getActiveSpan());
          return answer(pattern, data).subscribe(subscriber);
        });
    });

    afterEach(async () => {
      await tracing?.shutdown();
      tracing = undefined;
    });

    const start = (): void => {
      tracing = startTracing({ serviceName: 'unit', exporter, simple: true, env: {} });
    };

    it('off (the default), makes no span and sends outside any', async () => {
      await client.echo({ text: 'x' });

      expect(activeAtDispatch).toEqual([undefined]);
      expect(exporter.getFinishedSpans()).toEqual([]);
    });

    it('makes a client span per request, current while its packet is made, with pattern, transport and outcome', async () => {
      start();
      await client.echo({ text: 'x' });

      const [span] = exporter.getFinishedSpans();
      expect(exporter.getFinishedSpans()).toHaveLength(1);
      expect(span).toMatchObject({
        name: 'echo',
        kind: SpanKind.CLIENT,
        attributes: { 'rpc.system': 'nestjs', 'echo.pattern': 'echo', 'echo.transport': 'tcp', 'echo.outcome': 'ok' },
        status: { code: SpanStatusCode.UNSET },
      });
      expect(activeAtDispatch.map((active) => active?.spanContext().spanId)).toEqual([span.spanContext().spanId]);
    });

    it('makes a producer span per event', async () => {
      start();
      await client.note({ text: 'x' });

      expect(exporter.getFinishedSpans()).toEqual([expect.objectContaining({ name: 'note', kind: SpanKind.PRODUCER })]);
      expect(activeAtDispatch[0]?.spanContext().spanId).toBe(exporter.getFinishedSpans()[0].spanContext().spanId);
    });

    it('records a failure: its code as outcome and error code, and an error status', async () => {
      start();
      proxy.reply = () => throwError(() => new Error('Connection closed'));
      await client.echo({ text: 'x' }).catch(() => undefined);

      expect(exporter.getFinishedSpans()[0]).toMatchObject({
        attributes: { 'echo.outcome': 'CONNECTION_LOST', 'echo.error_code': 'CONNECTION_LOST' },
        status: { code: SpanStatusCode.ERROR, message: 'CONNECTION_LOST' },
      });
    });

    it("makes each packet in its call's context, even when it is sent from another (a wait for the connection, a repeat)", async () => {
      start();
      client = new EchoClient(proxy.asClientProxy(), { timeoutMs: 1_000, retry: { attempts: 2, initialDelayMs: 1 } });
      let attempt = 0;
      proxy.reply = (pattern, data) =>
        new Observable((subscriber) => {
          activeAtDispatch.push(trace.getActiveSpan());
          return (attempt++ === 0 ? throwError(() => new Error('Connection closed')) : of({ pattern, data })).subscribe(subscriber);
        });

      // Sent from inside another span's context, then repeated from a timer's.
      const other = activeTracer()!.startSpan('unrelated');
      await context.with(trace.setSpan(context.active(), other), async () => {
        const call = client.echo({ text: 'x' });
        other.end();
        await call;
      });

      const callSpan = exporter.getFinishedSpans().find((span) => span.kind === SpanKind.CLIENT)!;
      expect(callSpan.parentSpanContext?.spanId).toBe(other.spanContext().spanId);
      expect(activeAtDispatch.map((active) => active?.spanContext().spanId)).toEqual([
        callSpan.spanContext().spanId,
        callSpan.spanContext().spanId,
      ]);
    });
  });

  describe('dispatch hook (injectTraceContext) on the packets of a proxy', () => {
    let tracing: Tracing;

    beforeEach(() => {
      tracing = startTracing({ serviceName: 'unit', exporter: new InMemorySpanExporter(), simple: true, env: {} });
    });

    afterEach(() => tracing.shutdown());

    it('adds the traceparent of the call span to the packet the hook sees', async () => {
      const packets: ReadPacket[] = [];
      proxy.reply = (pattern, data) =>
        new Observable((subscriber) => {
          const packet: ReadPacket = { pattern, data };
          injectTraceContext(packet);
          packets.push(packet);
          subscriber.next({});
          subscriber.complete();
        });

      await client.echo({ text: 'x' });

      expect(packets[0].metadata?.traceparent).toMatch(/^00-[0-9a-f]{32}-[0-9a-f]{16}-01$/);
    });
  });

  describe('create', () => {
    it('builds a TCP proxy (ClientTCP with its direct path) for the host and port, with the framed socket and the given limits on it', async () => {
      const create = jest.spyOn(ClientProxyFactory, 'create').mockReturnValue(proxy.asClientProxy());

      const created = EchoClient.create({
        host: '127.0.0.1',
        port: 4321,
        timeoutMs: 250,
        transport: { maxBufferSize: 1_000_000, incompleteMessageTimeout: 2_000 },
      });

      expect(created).toBeInstanceOf(EchoClient);
      expect(create).toHaveBeenCalledTimes(1);
      const [{ customClass, options }] = create.mock.calls[0] as unknown as [{ customClass: unknown; options: Record<string, unknown> }];
      expect(customClass).toBe(EchoClientTcp);
      expect(options).toEqual({ host: '127.0.0.1', port: 4321, keepAliveMs: 15_000, socketClass: expect.any(Function) as unknown });
      const SocketClass = options.socketClass as new (socket: Socket) => FramedJsonSocket;
      const netSocket = new Socket();
      const framed = new SocketClass(netSocket);
      expect(framed).toBeInstanceOf(FramedJsonSocket);
      expect(framed).toMatchObject({ settings: { maxFrameLength: 1_000_000, incompleteFrameTimeoutMs: 2_000, noDelay: true } });
      netSocket.destroy();

      // Its packets carry the trace context, with tracing on.
      expect(proxy.setOnDispatchHook).toHaveBeenCalledWith(injectTraceContext);
      // Calls go through the proxy it built, bounded by the timeout it was given.
      await expect(created.echo({ text: 'via the factory' })).resolves.toEqual({ pattern: 'echo', data: { text: 'via the factory' } });
      jest.useFakeTimers();
      proxy.reply = () => NEVER;
      const call = track(created.echo({ text: 'never answered' }));
      await jest.advanceTimersByTimeAsync(250);
      await expect(call.promise).rejects.toMatchObject({ code: 'TIMEOUT', message: 'no reply to "echo" within 250 ms' });
    });
  });
});
