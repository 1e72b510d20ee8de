import { Logger } from '@nestjs/common';
import type { ClientProxy } from '@nestjs/microservices';
import { Observable, Subject, type Subscriber } from 'rxjs';
import { EchoClient } from './echo-client';
import type { EchoClientSettings } from './echo-client-options';
import type { RpcClientError } from './rpc-client.error';
import { expectLogged } from '../../../../test/support/captured-logs';

/** What the client reads of a connection's socket: the bytes received, and `destroy()`, which drops the connection. */
class FakeConnectionSocket {
  bytesRead = 0;
  destroyed = false;
  readonly destroy = jest.fn(() => {
    if (!this.destroyed) {
      this.onDestroy();
    }
  });
  readonly once = jest.fn();

  constructor(private readonly onDestroy: () => void) {}
}

/**
 * A stand-in for `ClientTCP` with a connection that tests can refuse and drop: `status`
 * reports it as ClientTCP does, and a drop fails the calls in flight with "Connection closed".
 */
class FlakyProxy {
  readonly status$ = new Subject<string>();
  up = false;
  /** Whether the next connect attempts succeed. */
  serverUp = true;
  /** Whether requests are answered at once; otherwise they stay in flight until a drop. */
  answer = true;
  /** The socket of the current (or last) connection. */
  socket?: FakeConnectionSocket;
  readonly connectTimes: number[] = [];
  private readonly inFlight = new Set<Subscriber<unknown>>();

  get status(): Observable<string> {
    return this.status$.asObservable();
  }

  readonly connect = jest.fn(() => {
    this.connectTimes.push(Date.now());
    if (this.up) {
      return Promise.resolve();
    }
    if (!this.serverUp) {
      this.status$.next('disconnected');
      return Promise.reject(Object.assign(new Error('connect ECONNREFUSED 127.0.0.1:1'), { code: 'ECONNREFUSED' }));
    }
    this.up = true;
    this.socket = new FakeConnectionSocket(() => this.drop());
    this.status$.next('connected');
    return Promise.resolve();
  });

  readonly send = jest.fn(
    (pattern: string, data: unknown) =>
      new Observable<unknown>((subscriber) => {
        if (this.answer) {
          this.socket!.bytesRead += 64;
          subscriber.next({ pattern, data });
          subscriber.complete();
          return undefined;
        }
        this.inFlight.add(subscriber);
        return () => this.inFlight.delete(subscriber);
      }),
  );

  readonly emit = jest.fn(() => new Observable<never>((subscriber) => subscriber.complete()));

  readonly close = jest.fn(() => {
    this.fail();
    return Promise.resolve();
  });

  readonly unwrap = jest.fn(() => {
    if (!this.up) {
      throw new Error('Not initialized');
    }
    return this.socket;
  });

  /** The peer closes the connection: ClientTCP reports it, then fails what is in flight. */
  drop(): void {
    this.status$.next('disconnected');
    this.fail();
  }

  get inFlightCount(): number {
    return this.inFlight.size;
  }

  asClientProxy(): ClientProxy {
    return this as unknown as ClientProxy;
  }

  private fail(): void {
    this.up = false;
    if (this.socket) {
      this.socket.destroyed = true;
    }
    const calls = [...this.inFlight];
    this.inFlight.clear();
    calls.forEach((subscriber) => subscriber.error(new Error('Connection closed')));
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

const rejection = (promise: Promise<unknown>): Promise<RpcClientError> =>
  promise.then(
    () => {
      throw new Error('expected a rejection');
    },
    (error: RpcClientError) => error,
  );

/** Asserts the warning the client logs `times` times when its connection to `h:1` drops and it reconnects. */
function expectDrops(times: number): void {
  expectLogged('warn', /^connection to h:1 lost; reconnecting$/, { times, context: 'EchoClient' });
}

/** Asserts the line the client logs once connected again, after `attempts` attempts (`times` times). */
function expectReconnected(attempts: number, times = 1): void {
  expectLogged('log', `reconnected to h:1 after ${attempts} attempt(s)`, { times, context: 'EchoClient' });
}

describe('EchoClient resilience', () => {
  let proxy: FlakyProxy;
  let client: EchoClient;
  /** No jitter: every backoff wait is its full step. */
  const create = (settings: EchoClientSettings = {}): EchoClient =>
    new EchoClient(proxy.asClientProxy(), { host: 'h', port: 1, timeoutMs: 1_000, ...settings }, () => 1);

  beforeEach(() => {
    jest.useFakeTimers();
    proxy = new FlakyProxy();
    client = create({ reconnect: { initialDelayMs: 100, maxDelayMs: 400, factor: 2 } });
  });

  afterEach(async () => {
    await client.close();
    jest.useRealTimers();
  });

  it('fails the calls in flight at once with a retryable CONNECTION_LOST when the connection drops', async () => {
    await client.connect();
    proxy.answer = false;
    const calls = [track(client.echo({ text: 'a' })), track(client.hello())];
    await jest.advanceTimersByTimeAsync(0);
    expect(proxy.inFlightCount).toBe(2);

    proxy.drop();
    await jest.advanceTimersByTimeAsync(0);

    for (const call of calls) {
      expect(call.settled()).toBe(true);
      await expect(call.promise).rejects.toMatchObject({ code: 'CONNECTION_LOST', retryable: true });
    }
    expectDrops(1);
  });

  it('reconnects in the background with capped exponential backoff, and serves calls again', async () => {
    await client.echo({ text: 'a reply proves the connection healthy' });
    proxy.serverUp = false;
    const droppedAt = Date.now();
    proxy.drop();

    await jest.advanceTimersByTimeAsync(1_500);
    // Waits of 100, 200, 400, 400 ms: steps doubled, capped at 400.
    expect(proxy.connectTimes.slice(1).map((at) => at - droppedAt)).toEqual([100, 300, 700, 1_100, 1_500]);
    expect(client.connectionInfo()).toMatchObject({ state: 'reconnecting', attempts: 6, connects: 1, drops: 1, consecutiveFailures: 5 });

    proxy.serverUp = true;
    await jest.advanceTimersByTimeAsync(400);
    expect(client.connectionInfo()).toMatchObject({ state: 'connected', attempts: 7, connects: 2, consecutiveFailures: 0 });
    await expect(client.echo({ text: 'back' })).resolves.toEqual({ pattern: 'echo', data: { text: 'back' } });
    expect(proxy.connect).toHaveBeenCalledTimes(7);
    expectDrops(1);
    expectReconnected(6);
  });

  it('keeps reconnecting after a failed first connect', async () => {
    proxy.serverUp = false;
    await expect(client.connect()).rejects.toMatchObject({ code: 'CONNECTION_FAILED', retryable: true });
    proxy.serverUp = true;

    await jest.advanceTimersByTimeAsync(200);

    expect(client.connectionInfo()).toMatchObject({ state: 'connected', attempts: 2, connects: 1 });
    expectReconnected(2);
  });

  it("by default ('wait') holds a call made during an outage until the connection is back", async () => {
    await client.connect();
    proxy.serverUp = false;
    proxy.drop();
    const call = track(client.echo({ text: 'patient' }));

    await jest.advanceTimersByTimeAsync(500);
    expect(call.settled()).toBe(false);
    expect(proxy.send).not.toHaveBeenCalled();
    proxy.serverUp = true;
    await jest.advanceTimersByTimeAsync(400);

    await expect(call.promise).resolves.toEqual({ pattern: 'echo', data: { text: 'patient' } });
    expectDrops(1);
    expectReconnected(2);
  });

  it('fails a waiting call with CONNECTION_FAILED when its timeout ends first, naming the last error', async () => {
    await client.connect();
    proxy.serverUp = false;
    proxy.drop();
    const call = track(client.echo({ text: 'too late' }, { timeoutMs: 300 }));

    await jest.advanceTimersByTimeAsync(299);
    expect(call.settled()).toBe(false);
    await jest.advanceTimersByTimeAsync(1);

    const error = await rejection(call.promise);
    expect(error).toMatchObject({ code: 'CONNECTION_FAILED', retryable: true, pattern: 'echo' });
    expect(error.message).toMatch(/^not connected to h:1 within 300 ms \(\w+, 1 failed of 2 attempts; last error: connect ECONNREFUSED/);
    expectDrops(1);
  });

  it.each([
    { label: 'for the client', settings: { whenDisconnected: 'fail-fast' as const }, options: {} },
    { label: 'for one call', settings: {}, options: { whenDisconnected: 'fail-fast' as const } },
  ])("with 'fail-fast' $label rejects a call during an outage at once, without sending it", async ({ settings, options }) => {
    await client.close();
    client = create(settings);
    await client.connect();
    proxy.serverUp = false;
    proxy.drop();

    const error = await rejection(client.echo({ text: 'now or never' }, options));

    expect(error).toMatchObject({ code: 'CONNECTION_FAILED', retryable: true });
    expect(error.message).toMatch(/^not connected to h:1 \(reconnecting/);
    expect(proxy.send).not.toHaveBeenCalled();
    expectDrops(1);
  });

  it("with 'fail-fast' still lets the first calls wait for the first connect", async () => {
    await client.close();
    client = create({ whenDisconnected: 'fail-fast' });

    await expect(Promise.all([client.echo({ text: '1' }), client.echo({ text: '2' })])).resolves.toHaveLength(2);
    expect(proxy.connect).toHaveBeenCalledTimes(1);
  });

  it('without reconnect, makes one attempt per call, as stock Nest does', async () => {
    await client.close();
    client = create({ reconnect: { enabled: false } });
    await client.connect();
    proxy.serverUp = false;
    proxy.drop();

    await jest.advanceTimersByTimeAsync(10_000);
    expect(proxy.connect).toHaveBeenCalledTimes(1);
    await expect(client.echo({ text: 'x' })).rejects.toMatchObject({ code: 'CONNECTION_FAILED' });
    expect(proxy.connect).toHaveBeenCalledTimes(2);
    expect(client.connectionInfo().state).toBe('idle');
    expectLogged('warn', /^connection to h:1 lost$/, { times: 1, context: 'EchoClient' });
  });

  it('stops reconnecting on close, and fails the waiting calls with CONNECTION_CLOSED', async () => {
    await client.connect();
    proxy.serverUp = false;
    proxy.drop();
    const waiting = track(client.echo({ text: 'x' }));
    await jest.advanceTimersByTimeAsync(150);
    const attempts = proxy.connect.mock.calls.length;

    await client.close();
    await jest.advanceTimersByTimeAsync(10_000);

    await expect(waiting.promise).rejects.toMatchObject({ code: 'CONNECTION_CLOSED', retryable: false });
    expect(proxy.connect).toHaveBeenCalledTimes(attempts);
    expect(jest.getTimerCount()).toBe(0);
    expectDrops(1);
  });

  it('fails the calls in flight when it is closed with CONNECTION_CLOSED, not CONNECTION_LOST', async () => {
    await client.connect();
    proxy.answer = false;
    const call = track(client.echo({ text: 'x' }));
    await jest.advanceTimersByTimeAsync(0);

    await client.close();

    await expect(call.promise).rejects.toMatchObject({ code: 'CONNECTION_CLOSED', retryable: false });
  });

  describe('backoff across connections that do not prove healthy', () => {
    beforeEach(async () => {
      await client.close();
      client = create({ reconnect: { initialDelayMs: 100, maxDelayMs: 10_000, factor: 2, healthyAfterMs: 1_000 } });
    });

    /** Drops the connection, and returns how long the client waited before it connected again. */
    async function dropAndTimeReconnect(): Promise<number> {
      const connects = proxy.connectTimes.length;
      const droppedAt = Date.now();
      proxy.drop();
      for (let step = 0; step < 2_000 && proxy.connectTimes.length === connects; step += 1) {
        await jest.advanceTimersByTimeAsync(10);
      }
      expect(client.connectionInfo().state).toBe('connected');
      return proxy.connectTimes.at(-1)! - droppedAt;
    }

    it('counts a connection closed at once by the peer as a failure, so the waits grow', async () => {
      await client.connect();
      const waits: number[] = [];
      for (let n = 0; n < 4; n += 1) {
        waits.push(await dropAndTimeReconnect());
      }

      // Connected every time, dropped every time before a reply or 1 s.
      expect(waits).toEqual([200, 400, 800, 1_600]);
      expect(client.connectionInfo()).toMatchObject({ connects: 5, drops: 4, consecutiveFailures: 0 });
      expectDrops(4);
      expectReconnected(1, 4);
    });

    it('resets the backoff once a connection has lasted healthyAfterMs', async () => {
      await client.connect();
      expect([await dropAndTimeReconnect(), await dropAndTimeReconnect()]).toEqual([200, 400]);

      await jest.advanceTimersByTimeAsync(1_000);

      expect(await dropAndTimeReconnect()).toBe(100);
      expectDrops(3);
      expectReconnected(1, 3);
    });

    it('resets the backoff once a connection has carried a reply, however short it was', async () => {
      await client.connect();
      expect([await dropAndTimeReconnect(), await dropAndTimeReconnect()]).toEqual([200, 400]);

      await client.echo({ text: 'x' });

      expect(await dropAndTimeReconnect()).toBe(100);
      expectDrops(3);
      expectReconnected(1, 3);
    });
  });

  describe('a connection on which calls keep timing out with nothing received', () => {
    let warn: jest.SpyInstance;

    beforeEach(async () => {
      warn = jest.spyOn(Logger.prototype, 'warn').mockImplementation(() => undefined);
      await client.close();
      client = create({ deadAfterTimeouts: 3, reconnect: { initialDelayMs: 100 } });
      await client.connect();
      proxy.answer = false;
    });

    afterEach(() => {
      warn.mockRestore();
    });

    /** Makes `count` calls one after the other, each timing out after 100 ms. */
    async function timeOut(count: number, call = () => client.echo({ text: 'lost' }, { timeoutMs: 100 })): Promise<void> {
      for (let n = 0; n < count; n += 1) {
        const pending = rejection(call());
        await jest.advanceTimersByTimeAsync(100);
        expect(await pending).toMatchObject({ code: 'TIMEOUT' });
      }
    }

    it('is destroyed after deadAfterTimeouts timeouts: the calls in flight fail with CONNECTION_LOST, and the client reconnects', async () => {
      const longCall = track(client.echo({ text: 'in flight' }, { timeoutMs: 60_000 }));
      await timeOut(2);
      expect(proxy.socket!.destroy).not.toHaveBeenCalled();
      expect(client.connectionInfo()).toMatchObject({ consecutiveTimeouts: 2, deadConnections: 0 });

      await timeOut(1);

      expect(proxy.socket!.destroy).toHaveBeenCalledTimes(1);
      await expect(longCall.promise).rejects.toMatchObject({ code: 'CONNECTION_LOST', retryable: true });
      const deadLines = warn.mock.calls.map(([message]) => String(message));
      expect(deadLines).toEqual(['connection to h:1 considered dead after 3 timeouts; reconnecting']);
      proxy.answer = true;
      await jest.advanceTimersByTimeAsync(1_000);
      expect(client.connectionInfo()).toMatchObject({
        state: 'connected',
        connects: 2,
        drops: 1,
        deadConnections: 1,
        consecutiveTimeouts: 0,
      });
      expect(client.connectionInfo().lastError?.message).toMatch(/considered dead after 3 timeouts/);
      await expect(client.echo({ text: 'back' })).resolves.toBeDefined();
      expectReconnected(1);
    });

    it('starts counting again when anything is received between two timeouts', async () => {
      await timeOut(2);
      proxy.socket!.bytesRead += 10; // a late reply

      await timeOut(2);

      expect(proxy.socket!.destroy).not.toHaveBeenCalled();
      expect(client.connectionInfo()).toMatchObject({ state: 'connected', consecutiveTimeouts: 2 });
    });

    it('counts the timeouts of calls that take the retrying path too', async () => {
      await timeOut(3, () => client.echo({ text: 'lost' }, { timeoutMs: 100, retry: true }));

      expect(proxy.socket!.destroy).toHaveBeenCalledTimes(1);
    });

    it('is left alone with deadAfterTimeouts: 0', async () => {
      await client.close();
      client = create({ deadAfterTimeouts: 0 });
      await client.connect();
      proxy.answer = false;

      await timeOut(10);

      expect(proxy.socket!.destroy).not.toHaveBeenCalled();
      expect(client.connectionInfo()).toMatchObject({ state: 'connected', deadConnections: 0 });
    });
  });

  describe('retry', () => {
    /** The first request is in flight when the connection drops; the server is back 150 ms later. */
    async function dropFirstRequest(call: () => Promise<unknown>): Promise<{ promise: Promise<unknown>; settled: () => boolean }> {
      await client.connect();
      proxy.answer = false;
      const pending = track(call());
      await jest.advanceTimersByTimeAsync(0);
      proxy.answer = true;
      proxy.drop();
      await jest.advanceTimersByTimeAsync(1_000);
      expectDrops(1);
      expectReconnected(1);
      return pending;
    }

    beforeEach(async () => {
      await client.close();
      client = create({ retry: { attempts: 3, initialDelayMs: 50, maxDelayMs: 200, factor: 2 }, reconnect: { initialDelayMs: 100 } });
    });

    it.each([
      { label: 'echo', call: (c: EchoClient) => c.echo({ text: 'again' }) },
      { label: 'hello', call: (c: EchoClient) => c.hello() },
      { label: 'a pure command', call: (c: EchoClient) => c.command({ name: 'upper', args: ['x'] }) },
    ])('repeats $label after CONNECTION_LOST once the connection is back', async ({ call }) => {
      const pending = await dropFirstRequest(() => call(client));

      await expect(pending.promise).resolves.toBeDefined();
      expect(proxy.send).toHaveBeenCalledTimes(2);
    });

    it.each([
      { label: 'sleep', call: (c: EchoClient) => c.command({ name: 'sleep', args: ['1'] }) },
      { label: 'a command it does not know', call: (c: EchoClient) => c.command({ name: 'count', args: ['x'] }) },
      { label: 'a call that opts out', call: (c: EchoClient) => c.echo({ text: 'x' }, { retry: false }) },
    ])('does not repeat $label', async ({ call }) => {
      const pending = await dropFirstRequest(() => call(client));

      await expect(pending.promise).rejects.toMatchObject({ code: 'CONNECTION_LOST' });
      expect(proxy.send).toHaveBeenCalledTimes(1);
    });

    it('repeats any request whose call opts in, on a client without retry', async () => {
      await client.close();
      client = create();

      const pending = await dropFirstRequest(() => client.command({ name: 'count', args: ['x'] }, { retry: true }));

      await expect(pending.promise).resolves.toBeDefined();
      expect(proxy.send).toHaveBeenCalledTimes(2);
    });

    it('never repeats an event', async () => {
      await client.connect();
      proxy.emit.mockImplementationOnce(() => new Observable<never>((subscriber) => subscriber.error(new Error('Connection closed'))));

      await expect(client.note({ text: 'once' })).rejects.toMatchObject({ code: 'CONNECTION_LOST' });
      expect(proxy.emit).toHaveBeenCalledTimes(1);
    });

    it('stops at the attempts it is given, with the last failure', async () => {
      await client.connect();
      proxy.send.mockImplementation(() => new Observable((subscriber) => subscriber.error(new Error('Connection closed'))));

      const call = track(client.echo({ text: 'x' }));
      await jest.advanceTimersByTimeAsync(500);

      await expect(call.promise).rejects.toMatchObject({ code: 'CONNECTION_LOST' });
      expect(proxy.send).toHaveBeenCalledTimes(3);
    });

    it("does not start a repeat that could not end within the call's timeout", async () => {
      await client.connect();
      proxy.send.mockImplementation(() => new Observable((subscriber) => subscriber.error(new Error('Connection closed'))));

      // The first repeat waits 50 ms; the second would wait 100 ms, past the 120 ms budget.
      const call = track(client.echo({ text: 'x' }, { timeoutMs: 120 }));
      await jest.advanceTimersByTimeAsync(60);

      expect(call.settled()).toBe(true);
      await expect(call.promise).rejects.toMatchObject({ code: 'CONNECTION_LOST' });
      expect(proxy.send).toHaveBeenCalledTimes(2);
    });

    it('does not repeat a TIMEOUT: the budget is spent', async () => {
      await client.connect();
      proxy.answer = false;
      const call = track(client.echo({ text: 'x' }, { timeoutMs: 100 }));

      await jest.advanceTimersByTimeAsync(100);

      await expect(call.promise).rejects.toMatchObject({ code: 'TIMEOUT', retryable: true });
      expect(proxy.send).toHaveBeenCalledTimes(1);
    });
  });
});
