import { Logger } from '@nestjs/common';
import { Server, type BaseRpcContext } from '@nestjs/microservices';
import type { ClosedConnections, ConnectionTracker } from '../connections/connection-tracker.service';
import { CLOSE_GRACE_MS } from '@echo-pair/common';
import { DrainService, type CallObserver } from './drain.service';

/** A transport server that runs messages through Nest's processing hooks, as `ServerTCP` does. */
class FakeTransport extends Server {
  listen(): void {}
  close(): void {}
  on(): void {}
  unwrap<T>(): T {
    return undefined as T;
  }

  /** Starts handling a message; it ends (the end hook runs) when the returned `end` is called. */
  startMessage(context = {} as BaseRpcContext): () => void {
    let end!: () => void;
    const ended = new Promise<void>((resolve) => (end = resolve));
    void this.runWithProcessingHooks(context, async (runEndHook) => {
      await ended;
      runEndHook();
    });
    return end;
  }

  /** A message whose handler rejects: Nest runs the end hook itself. */
  failMessage(context = {} as BaseRpcContext): Promise<unknown> {
    return Promise.resolve(this.runWithProcessingHooks(context, () => Promise.reject(new Error('handler failed'))) as unknown).catch(
      () => undefined,
    );
  }
}

describe('DrainService', () => {
  let transport: FakeTransport;
  let closeAll: jest.Mock<Promise<ClosedConnections>, [number]>;
  let tracker: { openConnections: number; closeAll: typeof closeAll };
  let drain: DrainService;
  let listener: { close: jest.Mock };
  let log: jest.SpyInstance;
  let warn: jest.SpyInstance;

  beforeEach(() => {
    transport = new FakeTransport();
    closeAll = jest.fn((_graceMs: number) => Promise.resolve({ closed: 2, cutOff: 1 }));
    tracker = { openConnections: 2, closeAll };
    drain = new DrainService(tracker as unknown as ConnectionTracker);
    drain.countMessagesOf(transport);
    listener = { close: jest.fn() };
    log = jest.spyOn(Logger.prototype, 'log').mockImplementation(() => undefined);
    warn = jest.spyOn(Logger.prototype, 'warn').mockImplementation(() => undefined);
  });

  afterEach(() => {
    jest.restoreAllMocks();
  });

  it('counts each message from its start until its end hook', async () => {
    const endFirst = transport.startMessage();
    const endSecond = transport.startMessage();
    expect(drain.inFlight).toBe(2);

    endFirst();
    await flushPromises();
    expect(drain.inFlight).toBe(1);
    endSecond();
    await flushPromises();
    expect(drain.inFlight).toBe(0);
  });

  it('counts out a message whose handler rejects', async () => {
    await transport.failMessage();

    expect(drain.inFlight).toBe(0);
  });

  it('with nothing in flight, stops accepting and closes the connections at once', async () => {
    const result = await drain.drain(listener, 10_000);

    expect(listener.close).toHaveBeenCalledTimes(1);
    expect(closeAll).toHaveBeenCalledWith(CLOSE_GRACE_MS);
    expect(result).toEqual({ drained: true, inFlight: 0, connections: 2, elapsedMs: expect.any(Number) as number });
    expect(log).toHaveBeenCalledWith(
      expect.stringMatching(/^draining: no new connections; 0 message\(s\) in flight on 2 connection\(s\), waiting up to 10000 ms/),
    );
    expect(log).toHaveBeenCalledWith(expect.stringMatching(/^drained in \d+ ms$/));
    expect(log).toHaveBeenCalledWith(
      expect.stringMatching(/^closed 2 connection\(s\), 1 cut off after 1000 ms without closing their side; shutdown took \d+ ms$/),
    );
  });

  it('is draining as soon as drain() is called, and stops accepting before anything else', () => {
    expect(drain.draining).toBe(false);

    void drain.drain(listener, 10_000);

    expect(drain.draining).toBe(true);
    expect(listener.close).toHaveBeenCalledTimes(1);
  });

  it('waits for the messages in flight, and closes the connections only after the last one ended', async () => {
    const endFirst = transport.startMessage();
    const endSecond = transport.startMessage();
    let settled = false;
    const result = drain.drain(listener, 10_000).finally(() => (settled = true));

    endFirst();
    await flushPromises();
    expect(settled).toBe(false);
    expect(closeAll).not.toHaveBeenCalled();

    endSecond();
    await expect(result).resolves.toMatchObject({ drained: true, inFlight: 0 });
    expect(closeAll).toHaveBeenCalledTimes(1);
    expect(warn).not.toHaveBeenCalled();
  });

  it('closes the connections anyway once the deadline passes, and says how many messages were still open', async () => {
    transport.startMessage(); // never ends

    const result = await drain.drain(listener, 20);

    expect(result).toMatchObject({ drained: false, inFlight: 1, connections: 2 });
    expect(closeAll).toHaveBeenCalledTimes(1);
    expect(warn).toHaveBeenCalledWith('drain deadline of 20 ms passed with 1 message(s) still in flight: their replies are lost');
  });

  it('drains once: a second call returns the first drain', async () => {
    const first = drain.drain(listener, 10_000);
    const second = drain.drain(listener, 0);

    expect(second).toBe(first);
    await first;
    expect(listener.close).toHaveBeenCalledTimes(1);
    expect(closeAll).toHaveBeenCalledTimes(1);
  });

  describe('with a call observer (the request metrics)', () => {
    let observed: Array<[string, unknown, number]>;
    let observedTransport: FakeTransport;

    beforeEach(() => {
      observed = [];
      const observer: CallObserver = {
        started: (context) => observed.push(['started', context, drain.inFlight]),
        ended: (context) => observed.push(['ended', context, drain.inFlight]),
      };
      observedTransport = new FakeTransport();
      drain.countMessagesOf(observedTransport, observer);
    });

    it('tells it of each message start and end, with its context, from the same hooks that count it in flight', async () => {
      const [first, second] = [{ id: 1 }, { id: 2 }] as unknown as BaseRpcContext[];
      const endFirst = observedTransport.startMessage(first);
      const endSecond = observedTransport.startMessage(second);
      endSecond();
      await flushPromises();
      endFirst();
      await flushPromises();

      // The start is told once counted in flight, the end before it is counted out.
      expect(observed).toEqual([
        ['started', first, 1],
        ['started', second, 2],
        ['ended', second, 2],
        ['ended', first, 1],
      ]);
      expect(drain.inFlight).toBe(0);
    });

    it('tells it of the end of a message whose handler rejects', async () => {
      const context = { id: 3 } as unknown as BaseRpcContext;

      await observedTransport.failMessage(context);

      expect(observed.map(([event, seen]) => [event, seen])).toEqual([
        ['started', context],
        ['ended', context],
      ]);
      expect(drain.inFlight).toBe(0);
    });

    it('is per transport: one counted without an observer tells it nothing', async () => {
      const end = transport.startMessage();
      end();
      await flushPromises();

      expect(observed).toEqual([]);
    });
  });

  describe('with several observers (the server spans, then the request metrics)', () => {
    let events: string[];
    let observedTransport: FakeTransport;
    /** Whose `around` the handler ran inside, innermost last. */
    let scopes: string[];

    const observer = (name: string, withAround: boolean): CallObserver => ({
      started: () => events.push(`${name} started (${drain.inFlight} in flight)`),
      ended: () => events.push(`${name} ended`),
      ...(withAround
        ? {
            around<T>(_context: unknown, handle: () => T): T {
              scopes.push(name);
              events.push(`${name} around`);
              try {
                return handle();
              } finally {
                scopes.pop();
              }
            },
          }
        : {}),
    });

    beforeEach(() => {
      events = [];
      scopes = [];
      observedTransport = new FakeTransport();
      const handlerSeesScopes = observedTransport.setOnProcessingStartHook.bind(observedTransport);
      jest.spyOn(observedTransport, 'setOnProcessingStartHook').mockImplementation((hook) =>
        handlerSeesScopes((transport, context, done) =>
          hook(transport, context, () => {
            events.push(`handler runs inside ${scopes.join(' > ') || 'nothing'}`);
            return done();
          }),
        ),
      );
      drain.countMessagesOf(observedTransport, observer('tracing', true), observer('metrics', false), observer('other', true));
    });

    it('tells each of every start and end in turn, and runs the handling inside every around, the first outermost', async () => {
      const end = observedTransport.startMessage({ id: 4 } as unknown as BaseRpcContext);
      end();
      await flushPromises();

      expect(events).toEqual([
        'tracing started (1 in flight)',
        'metrics started (1 in flight)',
        'other started (1 in flight)',
        'tracing around',
        'other around',
        'handler runs inside tracing > other',
        'tracing ended',
        'metrics ended',
        'other ended',
      ]);
      expect(drain.inFlight).toBe(0);
    });

    it('passes on what the handling returns: a failed handler still ends its message', async () => {
      await observedTransport.failMessage({ id: 5 } as unknown as BaseRpcContext);

      expect(events.filter((event) => event.endsWith('ended'))).toEqual(['tracing ended', 'metrics ended', 'other ended']);
      expect(drain.inFlight).toBe(0);
    });
  });

  it('runs the handling inside the around of a single observer', async () => {
    const seen: unknown[] = [];
    const single = new FakeTransport();
    const context = { id: 6 } as unknown as BaseRpcContext;
    drain.countMessagesOf(single, {
      started: () => undefined,
      ended: () => seen.push('ended'),
      around: <T>(aroundContext: unknown, handle: () => T): T => {
        seen.push(aroundContext);
        return handle();
      },
    });

    single.startMessage(context)();
    await flushPromises();

    expect(seen).toEqual([context, 'ended']);
  });

  it("passes the filter's failure reports to every observer that takes them, once each, whatever transport they were given with", () => {
    const metrics = { started: jest.fn(), ended: jest.fn(), failed: jest.fn() };
    const tracing = { started: jest.fn(), ended: jest.fn(), failed: jest.fn() };
    const blind = { started: jest.fn(), ended: jest.fn() };
    const context = { id: 'a call' };
    drain.countMessagesOf(new FakeTransport(), tracing, metrics, blind);
    drain.countMessagesOf(new FakeTransport(), tracing, metrics);

    drain.failed(context, 'UNKNOWN_COMMAND');

    expect(metrics.failed.mock.calls).toEqual([[context, 'UNKNOWN_COMMAND']]);
    expect(tracing.failed.mock.calls).toEqual([[context, 'UNKNOWN_COMMAND']]);
  });

  it('counts the messages of every served transport once the application bootstraps, telling the observers registered, in order', async () => {
    const [tcp, udp] = [new FakeTransport(), new FakeTransport()];
    const served = new DrainService(tracker as unknown as ConnectionTracker, [
      { name: 'tcp', strategy: tcp, listening: () => true, port: () => 3000, listeningLine: () => '' },
      { name: 'udp', strategy: udp, listening: () => true, port: () => 3002, listeningLine: () => '' },
    ]);
    const seen: string[] = [];
    served.observe({
      started: () => seen.push('tracing started'),
      ended: () => seen.push('tracing ended'),
      failed: () => seen.push('tracing failed'),
    });
    served.observe({ started: () => seen.push('metrics started'), ended: () => seen.push('metrics ended') });
    const context = {} as BaseRpcContext;

    served.onApplicationBootstrap();
    const end = tcp.startMessage(context);
    udp.startMessage();
    expect(served.inFlight).toBe(2);
    served.failed(context, 'UNKNOWN_COMMAND');
    end();
    await flushPromises();

    expect(served.inFlight).toBe(1);
    expect(seen).toEqual([
      'tracing started',
      'metrics started',
      'tracing started',
      'metrics started',
      'tracing failed',
      'tracing ended',
      'metrics ended',
    ]);
  });

  it('refuses a transport without processing hooks', () => {
    expect(() => drain.countMessagesOf({} as never)).toThrow('processing hooks of a Nest transport Server');
  });
});

function flushPromises(): Promise<void> {
  return new Promise((resolve) => setImmediate(resolve));
}
