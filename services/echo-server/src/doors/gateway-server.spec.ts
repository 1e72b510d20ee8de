import { ErrorCodes, Transports, type RpcErrorEnvelope } from '@echo-pair/common';
import type { LoggerService } from '@nestjs/common';
import type { MessageHandler } from '@nestjs/microservices';
import { defer, EMPTY, Observable, of, Subject, throwError, timer, map } from 'rxjs';
import { GatewayContext } from '../core/gateway-context';
import { EVENT_HANDLED, GatewayServer, type CallOutcome } from './gateway-server';

/** The smallest transport on the base: no socket, calls and events come from the test. */
class TestGateway extends GatewayServer {
  listen(callback: () => void): void {
    callback();
  }

  close(): void {}

  on(): void {}

  unwrap<T>(): T {
    return undefined as T;
  }

  async call(pattern: string, data: unknown, context: GatewayContext): Promise<CallOutcome> {
    return this.invoke(pattern, data, context);
  }

  emit(pattern: string, data: unknown, context: GatewayContext): Promise<unknown> {
    return this.dispatchEvent(pattern, data, context);
  }

  async deliver(pattern: string, data: unknown, context: GatewayContext): Promise<CallOutcome> {
    return this.deliverEvent(pattern, data, context);
  }

  /** Nest's logger of this server, to silence and watch it. */
  get log(): LoggerService {
    return this.logger;
  }
}

const TRANSPORT_ID = Symbol('test-gateway');

const ENVELOPE: RpcErrorEnvelope = {
  code: ErrorCodes.INVALID_COMMAND_ARGS,
  message: 'upper: needs text (usage: upper <text>)',
  details: { command: 'upper', usage: 'upper <text>' },
};

const INTERNAL_ERROR: CallOutcome = {
  ok: false,
  error: { code: ErrorCodes.INTERNAL_ERROR, message: 'internal server error', details: {} },
};

function contextOf(pattern: string): GatewayContext {
  return new GatewayContext([pattern, Transports.TEXT, '127.0.0.1:50312']);
}

/** A request handler as Nest registers it; its type says Promise, though Nest's own proxies return observables too. */
function handler(fn: (data: unknown, context: GatewayContext) => unknown): MessageHandler {
  return jest.fn(fn) as unknown as MessageHandler;
}

describe('GatewayServer', () => {
  let server: TestGateway;
  let started: jest.Mock;
  let ended: jest.Mock;

  beforeEach(() => {
    server = new TestGateway();
    server.setTransportId(TRANSPORT_ID);
    started = jest.fn((_transport: unknown, _context: unknown, done: () => Promise<unknown>) => done());
    ended = jest.fn();
    server.setOnProcessingStartHook(started);
    server.setOnProcessingEndHook(ended);
  });

  /** Calls `pattern` once, and checks that the call ran between one start and one end of processing. */
  async function callOnce(pattern: string, data: unknown = { text: 'hi' }): Promise<CallOutcome> {
    const context = contextOf(pattern);

    const outcome = await server.call(pattern, data, context);

    expect(started).toHaveBeenCalledTimes(1);
    expect(started).toHaveBeenCalledWith(TRANSPORT_ID, context, expect.any(Function));
    expect(ended).toHaveBeenCalledTimes(1);
    expect(ended).toHaveBeenCalledWith(TRANSPORT_ID, context);
    return outcome;
  }

  describe('invoke', () => {
    it('passes the data and the context to the handler', async () => {
      const echo = handler((data) => data);
      server.addHandler('echo', echo);
      const context = contextOf('echo');

      await server.call('echo', { text: 'hi' }, context);

      expect(echo).toHaveBeenCalledTimes(1);
      expect(echo).toHaveBeenCalledWith({ text: 'hi' }, context);
    });

    it("resolves with a handler's value", async () => {
      server.addHandler(
        'echo',
        handler((data) => ({ echoed: data })),
      );

      await expect(callOnce('echo')).resolves.toEqual({ ok: true, response: { echoed: { text: 'hi' } } });
    });

    it("resolves with what a handler's promise resolves to", async () => {
      server.addHandler(
        'echo',
        handler(async () => {
          await new Promise((resolve) => setTimeout(resolve, 5));
          return 'later';
        }),
      );

      await expect(callOnce('echo')).resolves.toEqual({ ok: true, response: 'later' });
    });

    it("resolves with an observable's first value", async () => {
      server.addHandler(
        'echo',
        handler(() => of('first', 'second', 'third')),
      );

      await expect(callOnce('echo')).resolves.toEqual({ ok: true, response: 'first' });
    });

    it('waits for an observable that emits later', async () => {
      server.addHandler(
        'echo',
        handler(() => timer(5).pipe(map(() => 'ticked'))),
      );

      await expect(callOnce('echo')).resolves.toEqual({ ok: true, response: 'ticked' });
    });

    it('resolves with the first value of an observable a promise resolves to (as Nest proxies return)', async () => {
      server.addHandler(
        'echo',
        handler(() => Promise.resolve(of('inner'))),
      );

      await expect(callOnce('echo')).resolves.toEqual({ ok: true, response: 'inner' });
    });

    it('resolves with the envelope an observable errors with (as the exception filter makes them)', async () => {
      server.addHandler(
        'command',
        handler(() => throwError(() => ENVELOPE)),
      );

      const outcome = await callOnce('command');

      expect(outcome).toEqual({ ok: false, error: ENVELOPE });
      expect(outcome.ok ? undefined : outcome.error).toBe(ENVELOPE);
    });

    it.each([
      ['an Error', new Error('boom')],
      ['undefined', undefined],
      ['a string', 'boom'],
      ['an object with an unknown code', { code: 'NOPE', message: 'x', details: {} }],
      ['an envelope without details', { code: ErrorCodes.UNKNOWN_COMMAND, message: 'x' }],
    ])('resolves with INTERNAL_ERROR for an observable erroring with %s', async (_label, error) => {
      server.addHandler(
        'command',
        handler(() => throwError(() => error)),
      );

      await expect(callOnce('command')).resolves.toEqual(INTERNAL_ERROR);
    });

    it('keeps the first value when the observable errors after it', async () => {
      server.addHandler(
        'command',
        handler(
          () =>
            new Observable((subscriber) => {
              subscriber.next('value');
              subscriber.error(ENVELOPE);
            }),
        ),
      );

      await expect(callOnce('command')).resolves.toEqual({ ok: true, response: 'value' });
    });

    it('resolves with INTERNAL_ERROR when the handler throws synchronously', async () => {
      server.addHandler(
        'echo',
        handler(() => {
          throw new Error('thrown');
        }),
      );

      await expect(callOnce('echo')).resolves.toEqual(INTERNAL_ERROR);
    });

    it("resolves with INTERNAL_ERROR when the handler's promise rejects", async () => {
      server.addHandler(
        'echo',
        handler(() => Promise.reject(new Error('rejected'))),
      );

      await expect(callOnce('echo')).resolves.toEqual(INTERNAL_ERROR);
    });

    it('resolves with no response for an observable that completes without a value', async () => {
      server.addHandler(
        'echo',
        handler(() => EMPTY),
      );

      await expect(callOnce('echo')).resolves.toEqual({ ok: true, response: undefined });
    });

    it('resolves before the stream is done, and ends processing only when it is', async () => {
      const replies = new Subject<string>();
      server.addHandler(
        'echo',
        handler(() => replies),
      );

      const outcome = server.call('echo', {}, contextOf('echo'));
      await new Promise((resolve) => setImmediate(resolve));
      replies.next('one');

      await expect(outcome).resolves.toEqual({ ok: true, response: 'one' });
      expect(started).toHaveBeenCalledTimes(1);
      expect(ended).not.toHaveBeenCalled();

      replies.next('two');
      replies.complete();
      expect(ended).toHaveBeenCalledTimes(1);
    });

    it('runs each call between its own start and end of processing', async () => {
      let calls = 0;
      server.addHandler(
        'echo',
        handler(() => defer(() => of((calls += 1)))),
      );
      const contexts = [1, 2, 3].map((port) => new GatewayContext(['echo', Transports.UDP, `10.0.0.1:${port}`]));

      const outcomes = await Promise.all(contexts.map((context) => server.call('echo', {}, context)));

      expect(outcomes).toEqual([1, 2, 3].map((response) => ({ ok: true, response })));
      expect(started.mock.calls.map(([, context]) => context as unknown)).toEqual(contexts);
      expect(ended.mock.calls.map(([, context]) => context as unknown)).toEqual(contexts);
    });

    it('runs the handler only once processing has started', async () => {
      const order: string[] = [];
      started.mockImplementation((_transport: unknown, _context: unknown, done: () => Promise<unknown>) => {
        order.push('start');
        return done();
      });
      ended.mockImplementation(() => order.push('end'));
      server.addHandler(
        'echo',
        handler(() => {
          order.push('handler');
          return 'ok';
        }),
      );

      await server.call('echo', {}, contextOf('echo'));

      expect(order).toEqual(['start', 'handler', 'end']);
    });

    it('answers a pattern without a handler with INTERNAL_ERROR, starting no processing', async () => {
      const echo = handler(() => 'echoed');
      server.addHandler('echo', echo);

      await expect(server.call('nope', {}, contextOf('nope'))).resolves.toEqual({
        ok: false,
        error: { code: ErrorCodes.INTERNAL_ERROR, message: 'no handler for this pattern', details: {} },
      });
      expect(echo).not.toHaveBeenCalled();
      expect(started).not.toHaveBeenCalled();
      expect(ended).not.toHaveBeenCalled();
    });
  });

  describe('dispatchEvent', () => {
    it('runs the event handler with the data and the context, between the processing hooks', async () => {
      const note = handler(() => undefined);
      server.addHandler('note', note, true);
      const context = contextOf('note');

      await server.emit('note', { text: 'remember' }, context);

      expect(note).toHaveBeenCalledTimes(1);
      expect(note).toHaveBeenCalledWith({ text: 'remember' }, context);
      expect(started).toHaveBeenCalledTimes(1);
      expect(started).toHaveBeenCalledWith(TRANSPORT_ID, context, expect.any(Function));
      expect(ended).toHaveBeenCalledTimes(1);
      expect(ended).toHaveBeenCalledWith(TRANSPORT_ID, context);
    });

    it('ends the processing of an event handled by a stream once that stream is done', async () => {
      const done = new Subject<void>();
      server.addHandler(
        'note',
        handler(() => done),
        true,
      );

      await server.emit('note', {}, contextOf('note'));
      expect(ended).not.toHaveBeenCalled();

      done.complete();
      expect(ended).toHaveBeenCalledTimes(1);
    });

    it('runs the handlers registered after the first through the chain Nest builds', async () => {
      const second = handler(() => undefined);
      const first = handler((data, context) => (first as unknown as { next: MessageHandler }).next(data, context));
      server.addHandler('note', first, true);
      server.addHandler('note', second, true);

      await server.emit('note', { text: 'both' }, contextOf('note'));

      expect(first).toHaveBeenCalledTimes(1);
      expect(second).toHaveBeenCalledWith({ text: 'both' }, expect.any(GatewayContext));
    });

    it('logs and drops an event without a handler', async () => {
      const logged = jest.spyOn(server.log, 'error').mockImplementation(() => undefined);
      const note = handler(() => undefined);
      server.addHandler('note', note, true);

      await expect(server.emit('unknown', {}, contextOf('unknown'))).resolves.toBeUndefined();

      expect(logged).toHaveBeenCalledTimes(1);
      expect(String(logged.mock.calls[0][0])).toContain('unknown');
      expect(note).not.toHaveBeenCalled();
      expect(started).not.toHaveBeenCalled();
    });
  });

  describe('deliverEvent', () => {
    it('runs the event handler between the processing hooks and resolves EVENT_HANDLED', async () => {
      const note = handler(() => undefined);
      server.addHandler('note', note, true);
      const context = contextOf('note');

      await expect(server.deliver('note', { text: 'remember' }, context)).resolves.toEqual(EVENT_HANDLED);

      expect(note).toHaveBeenCalledWith({ text: 'remember' }, context);
      expect(started).toHaveBeenCalledTimes(1);
      expect(started).toHaveBeenCalledWith(TRANSPORT_ID, context, expect.any(Function));
      expect(ended).toHaveBeenCalledTimes(1);
      expect(ended).toHaveBeenCalledWith(TRANSPORT_ID, context);
    });

    it("resolves the exception filter's envelope when the handler's stream fails (a payload refused by its pipe)", async () => {
      server.addHandler(
        'note',
        handler(() => throwError(() => ENVELOPE)),
        true,
      );

      await expect(server.deliver('note', {}, contextOf('note'))).resolves.toEqual({ ok: false, error: ENVELOPE });
      expect(ended).toHaveBeenCalledTimes(1);
    });

    it('resolves INTERNAL_ERROR for a thrown error and for a failure that is no envelope', async () => {
      server.addHandler(
        'note',
        handler(() => {
          throw new Error('boom');
        }),
        true,
      );
      server.addHandler(
        'other',
        handler(() => throwError(() => new Error('secret'))),
        true,
      );

      await expect(server.deliver('note', {}, contextOf('note'))).resolves.toEqual(INTERNAL_ERROR);
      await expect(server.deliver('other', {}, contextOf('other'))).resolves.toEqual(INTERNAL_ERROR);
    });

    it('waits for a stream to complete before it resolves, and ends processing then', async () => {
      const done = new Subject<void>();
      server.addHandler(
        'note',
        handler(() => done),
        true,
      );
      let outcome: CallOutcome | undefined;

      const delivered = server.deliver('note', {}, contextOf('note')).then((value) => (outcome = value));
      await new Promise((resolve) => setImmediate(resolve));
      expect(outcome).toBeUndefined();
      expect(ended).not.toHaveBeenCalled();

      done.complete();
      await delivered;
      expect(outcome).toEqual(EVENT_HANDLED);
      expect(ended).toHaveBeenCalledTimes(1);
    });

    it('refuses a request handler and a missing one with the no-handler error, running nothing', async () => {
      const echo = handler(() => of({ text: 'hi' }));
      server.addHandler('echo', echo, false);

      for (const pattern of ['echo', 'unknown']) {
        await expect(server.deliver(pattern, {}, contextOf(pattern))).resolves.toEqual({
          ok: false,
          error: { code: ErrorCodes.INTERNAL_ERROR, message: 'no handler for this pattern', details: {} },
        });
      }
      expect(echo).not.toHaveBeenCalled();
      expect(started).not.toHaveBeenCalled();
    });
  });
});
