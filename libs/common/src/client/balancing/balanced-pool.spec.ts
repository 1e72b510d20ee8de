import { Logger } from '@nestjs/common';
import { ClientProxyFactory, type ClientProxy } from '@nestjs/microservices';
import { NEVER, Observable, Subject, type Subscriber } from 'rxjs';
import type { RpcErrorEnvelope } from '../../contract/error-envelope';
import type { ReplicaInfo } from '../connection-info';
import { EchoClient } from '../echo-client';
import type { EchoClientSettings } from '../echo-client-options';
import type { RpcClientError } from '../rpc-client.error';
import { MIN_RESOLVE_GAP_MS, RESOLVE_AFTER_FAILURE_MS } from './replica-resolver';
import { expectLogged } from '../../../../../test/support/captured-logs';

/** What the client reads of a connection's socket. */
class FakeSocket {
  bytesRead = 0;
  destroyed = false;
  readonly once = jest.fn();
  constructor(readonly destroy: () => void) {}
}

const SHUTTING_DOWN: RpcErrorEnvelope = { code: 'SHUTTING_DOWN', message: 'the server is shutting down', details: { retryable: true } };

/**
 * A stand-in for the `ClientTCP` of one replica: it reports its connection through `status` as
 * ClientTCP does, answers with its address (so that a test sees which replica served a call),
 * holds calls when `answering` is false, and fails what it holds with "Connection closed" on a drop.
 */
class ReplicaProxy {
  readonly status$ = new Subject<string>();
  up = false;
  /** Whether connect attempts succeed. */
  serverUp = true;
  /** Whether calls are answered at once; otherwise they stay in flight until a drop. */
  answering = true;
  /** Replaces the answer when set. */
  reply?: (pattern: string, data: unknown) => Observable<unknown>;
  socket?: FakeSocket;
  closed = false;
  readonly received: Array<{ pattern: string; data: unknown }> = [];
  private readonly held = new Set<Subscriber<unknown>>();

  constructor(readonly address: string) {}

  get status(): Observable<string> {
    return this.status$.asObservable();
  }

  readonly connect = jest.fn(() => {
    if (this.up) {
      return Promise.resolve();
    }
    if (!this.serverUp) {
      this.status$.next('disconnected');
      return Promise.reject(Object.assign(new Error(`connect ECONNREFUSED ${this.address}:1`), { code: 'ECONNREFUSED' }));
    }
    this.up = true;
    this.socket = new FakeSocket(() => this.drop());
    this.status$.next('connected');
    return Promise.resolve();
  });

  readonly send = jest.fn(
    (pattern: string, data: unknown) =>
      new Observable<unknown>((subscriber) => {
        this.received.push({ pattern, data });
        if (this.reply) {
          return this.reply(pattern, data).subscribe(subscriber);
        }
        if (this.answering) {
          this.socket!.bytesRead += 64;
          subscriber.next({ address: this.address, pattern, data });
          subscriber.complete();
          return undefined;
        }
        this.held.add(subscriber);
        return () => this.held.delete(subscriber);
      }),
  );

  readonly emit = jest.fn(
    (pattern: string, data: unknown) =>
      new Observable<never>((subscriber) => {
        this.received.push({ pattern, data });
        subscriber.complete();
      }),
  );

  readonly close = jest.fn(() => {
    this.closed = true;
    this.fail();
    return Promise.resolve();
  });

  readonly unwrap = jest.fn(() => {
    if (!this.up) {
      throw new Error('Not initialized');
    }
    return this.socket;
  });

  get heldCount(): number {
    return this.held.size;
  }

  /** Answers the calls it holds. */
  release(): void {
    const calls = [...this.held];
    this.held.clear();
    calls.forEach((subscriber) => {
      subscriber.next({ address: this.address });
      subscriber.complete();
    });
  }

  /** The peer closes the connection: ClientTCP reports it, then fails what is in flight. */
  drop(): void {
    this.status$.next('disconnected');
    this.fail();
  }

  asClientProxy(): ClientProxy {
    return this as unknown as ClientProxy;
  }

  private fail(): void {
    this.up = false;
    if (this.socket) {
      this.socket.destroyed = true;
    }
    const calls = [...this.held];
    this.held.clear();
    calls.forEach((subscriber) => subscriber.error(new Error('Connection closed')));
  }
}

const A = '10.0.0.1';
const B = '10.0.0.2';
const C = '10.0.0.3';
const INTERVAL_MS = 5_000;

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

describe('EchoClient over the replicas of a name (BalancedPool)', () => {
  let addresses: string[];
  let resolver: jest.Mock<Promise<readonly string[]>, [string]>;
  /** The proxies created, by address (the last one for an address created again). */
  let proxies: Map<string, ReplicaProxy>;
  let client: EchoClient;
  let logs: jest.SpyInstance[];

  /** No jitter: every backoff wait is its full step. */
  const create = (settings: EchoClientSettings = {}): EchoClient =>
    new EchoClient(
      {
        createProxy: (address) => {
          const proxy = new ReplicaProxy(address);
          proxies.set(address, proxy);
          return proxy.asClientProxy();
        },
      },
      {
        host: 'echo',
        port: 1,
        timeoutMs: 1_000,
        resolver,
        resolveIntervalMs: INTERVAL_MS,
        reconnect: { initialDelayMs: 100, maxDelayMs: 1_000, factor: 2 },
        ...settings,
      },
      () => 1,
    );

  const proxy = (address: string): ReplicaProxy => proxies.get(address)!;
  const replica = (address: string): ReplicaInfo => client.connectionInfo().replicas.find((info) => info.address === address)!;
  const echo = async (text = 'x', options = {}): Promise<string> =>
    ((await client.echo({ text }, options)) as unknown as { address: string }).address;

  /** Makes `count` calls one after the other and counts the replies of each replica. */
  async function spread(count: number): Promise<Record<string, number>> {
    const served: Record<string, number> = {};
    for (let n = 0; n < count; n += 1) {
      const address = await echo(`call ${n}`);
      served[address] = (served[address] ?? 0) + 1;
    }
    return served;
  }

  beforeEach(() => {
    jest.useFakeTimers();
    logs = [jest.spyOn(Logger.prototype, 'log').mockImplementation(), jest.spyOn(Logger.prototype, 'warn').mockImplementation()];
    addresses = [A, B, C];
    resolver = jest.fn((host: string) => {
      void host;
      return Promise.resolve([...addresses]);
    });
    proxies = new Map();
    client = create();
  });

  afterEach(async () => {
    await client.close();
    jest.useRealTimers();
    logs.forEach((spy) => spy.mockRestore());
  });

  describe('resolution and spreading', () => {
    it('resolves the name at the first use, not before, and keeps a connection to every address', async () => {
      expect(resolver).not.toHaveBeenCalled();
      expect(client.connectionInfo()).toMatchObject({ state: 'idle', replicas: [] });

      await client.connect();
      await jest.advanceTimersByTimeAsync(0);

      expect(resolver).toHaveBeenCalledTimes(1);
      expect(resolver).toHaveBeenCalledWith('echo');
      expect([...proxies.keys()]).toEqual([A, B, C]);
      const info = client.connectionInfo();
      expect(info).toMatchObject({ state: 'connected', attempts: 3, connects: 3, resolution: { host: 'echo', resolves: 1 } });
      expect(info.replicas.map(({ address, state, inFlight, calls, failures }) => ({ address, state, inFlight, calls, failures }))).toEqual(
        [A, B, C].map((address) => ({ address, state: 'connected', inFlight: 0, calls: 0, failures: 0 })),
      );
    });

    it('spreads calls made one after the other evenly: round robin among replicas with nothing in flight', async () => {
      await client.connect();
      await jest.advanceTimersByTimeAsync(0);

      expect(await spread(30)).toEqual({ [A]: 10, [B]: 10, [C]: 10 });
      expect(client.connectionInfo().replicas.map((info) => info.calls)).toEqual([10, 10, 10]);
    });

    it('spreads them evenly over the others while one replica is down', async () => {
      await client.connect();
      await jest.advanceTimersByTimeAsync(0);
      proxy(A).serverUp = false;
      proxy(A).drop();

      expect(await spread(30)).toEqual({ [B]: 15, [C]: 15 });
    });

    it('sends new calls to the replicas with the fewest in flight', async () => {
      await client.connect();
      await jest.advanceTimersByTimeAsync(0);
      proxy(A).answering = false; // a slow replica: its calls stay in flight

      const calls = Array.from({ length: 20 }, (_, n) => client.echo({ text: String(n) }));
      await jest.advanceTimersByTimeAsync(0);

      expect(proxy(A).heldCount).toBe(1);
      expect(replica(A)).toMatchObject({ inFlight: 1, calls: 1 });
      expect(replica(B).calls + replica(C).calls).toBe(19);
      proxy(A).release();
      await Promise.all(calls);
      expect(replica(A).inFlight).toBe(0);
    });

    it('gives a new replica calls once the interval has resolved it, and drops a vanished one once its calls have ended', async () => {
      await client.connect();
      await jest.advanceTimersByTimeAsync(0);
      proxy(B).answering = false;
      const onB = track(client.echo({ text: 'held by B' }, { timeoutMs: 60_000, replica: B }));
      await jest.advanceTimersByTimeAsync(0);
      expect(proxy(B).heldCount).toBe(1);
      const d = '10.0.0.4';
      addresses = [A, C, d];

      await jest.advanceTimersByTimeAsync(INTERVAL_MS);

      expect(resolver).toHaveBeenCalledTimes(2);
      expect(proxy(d).connect).toHaveBeenCalledTimes(1);
      expect(replica(B)).toMatchObject({ retiring: true, inFlight: 1 });
      expect(proxy(B).closed).toBe(false); // its call is still in flight
      expect(await spread(30)).toEqual({ [A]: 10, [C]: 10, [d]: 10 });

      proxy(B).release();
      await expect(onB.promise).resolves.toEqual({ address: B });
      expect(proxy(B).closed).toBe(true);
      expect(client.connectionInfo().replicas.map((info) => info.address)).toEqual([A, C, d]);
      // The counters of the replica removed stay in the client's totals.
      expect(client.connectionInfo()).toMatchObject({ connects: 4, attempts: 4 });
    });

    it('closes a vanished replica still busy after the call timeout and a grace, failing its calls with CONNECTION_LOST', async () => {
      await client.connect();
      await jest.advanceTimersByTimeAsync(0);
      proxy(B).answering = false;
      const onB = rejection(client.echo({ text: 'held by B' }, { timeoutMs: 60_000, replica: B }));
      await jest.advanceTimersByTimeAsync(0);
      addresses = [A, C];

      await jest.advanceTimersByTimeAsync(INTERVAL_MS + 1_000 + 1_000);

      expect(await onB).toMatchObject({ code: 'CONNECTION_LOST' });
      expect(proxy(B).closed).toBe(true);
    });

    it('resolves again soon after a connection fails, and drops the address the name no longer has', async () => {
      client = create({ resolveIntervalMs: 60_000 });
      await client.connect();
      await jest.advanceTimersByTimeAsync(MIN_RESOLVE_GAP_MS);
      expect(resolver).toHaveBeenCalledTimes(1);
      addresses = [A, C];
      proxy(B).serverUp = false;

      proxy(B).drop();
      await jest.advanceTimersByTimeAsync(RESOLVE_AFTER_FAILURE_MS);

      expect(resolver).toHaveBeenCalledTimes(2);
      expect(client.connectionInfo().replicas.map((info) => info.address)).toEqual([A, C]);
      expect(proxy(B).closed).toBe(true);
    });

    it('keeps the replicas it knows when a resolution fails, and serves on', async () => {
      await client.connect();
      await jest.advanceTimersByTimeAsync(0);
      resolver.mockRejectedValue(Object.assign(new Error('getaddrinfo EAI_AGAIN echo'), { code: 'EAI_AGAIN' }));

      await jest.advanceTimersByTimeAsync(INTERVAL_MS);

      expect(resolver).toHaveBeenCalledTimes(2);
      expect(client.connectionInfo()).toMatchObject({
        state: 'connected',
        resolution: { resolves: 1, consecutiveFailures: 1, lastError: { message: 'cannot resolve echo: getaddrinfo EAI_AGAIN echo' } },
      });
      expect(await spread(3)).toEqual({ [A]: 1, [B]: 1, [C]: 1 });
    });

    it('with no address resolved, fails a call with the reason, and resolves again with backoff until it can', async () => {
      resolver.mockRejectedValue(Object.assign(new Error('getaddrinfo ENOTFOUND echo'), { code: 'ENOTFOUND' }));

      const failFast = await rejection(client.echo({ text: 'x' }, { whenDisconnected: 'fail-fast' }));
      expect(failFast).toMatchObject({ code: 'CONNECTION_FAILED', retryable: true });
      expect(failFast.message).toMatch(/^not connected to echo:1 \(no address resolved; last error: cannot resolve echo: .*ENOTFOUND/);
      const waited = rejection(client.echo({ text: 'x' }, { timeoutMs: 300 }));
      await jest.advanceTimersByTimeAsync(300);
      expect((await waited).message).toMatch(/^not connected to echo:1 within 300 ms \(no address resolved; last error: cannot resolve/);
      const calls = resolver.mock.calls.length;
      expect(calls).toBeGreaterThanOrEqual(2);
      const patient = track(client.echo({ text: 'patient' }, { timeoutMs: 10_000 }));

      resolver.mockImplementation(() => Promise.resolve([B]));
      await jest.advanceTimersByTimeAsync(1_000);

      await expect(patient.promise).resolves.toMatchObject({ address: B });
      expect(client.connectionInfo()).toMatchObject({ state: 'connected', resolution: { consecutiveFailures: 0 } });
    });
  });

  describe('a name with one address', () => {
    beforeEach(() => {
      addresses = [A];
    });

    it('is one connection as without balancing: the same info, and messages naming the host', async () => {
      await client.connect();
      await expect(client.echo({ text: 'x' })).resolves.toMatchObject({ address: A });
      proxy(A).serverUp = false;
      proxy(A).drop();

      const pending = rejection(client.echo({ text: 'x' }, { timeoutMs: 300 }));
      await jest.advanceTimersByTimeAsync(300);
      const error = await pending;

      expect(error).toMatchObject({ code: 'CONNECTION_FAILED', retryable: true });
      expect(error.message).toMatch(/^not connected to echo:1 within 300 ms \(reconnecting, \d+ failed of \d+ attempts; last error: /);
      const info = client.connectionInfo();
      const { address, inFlight, calls, failures, ejected, draining, retiring, ...connection } = info.replicas[0];
      expect({ address, inFlight, calls, failures, ejected, draining, retiring }).toEqual({
        address: A,
        inFlight: 0,
        calls: 1,
        failures: 0,
        ejected: false,
        draining: false,
        retiring: false,
      });
      const { replicas: _replicas, resolution: _resolution, ...whole } = info;
      expect(whole).toEqual(connection);
    });

    it('repeats a call lost with its connection on the same replica once it is back, after the backoff', async () => {
      await client.close();
      client = create({ retry: { attempts: 3, initialDelayMs: 50, maxDelayMs: 200, factor: 2 } });
      await client.connect();
      proxy(A).answering = false;
      const call = track(client.echo({ text: 'again' }));
      await jest.advanceTimersByTimeAsync(0);
      proxy(A).answering = true;

      proxy(A).drop();
      await jest.advanceTimersByTimeAsync(1_000);

      await expect(call.promise).resolves.toMatchObject({ address: A });
      expect(proxy(A).send).toHaveBeenCalledTimes(2);
    });
  });

  describe('failures and repeats', () => {
    beforeEach(async () => {
      await client.close();
      client = create({ retry: { attempts: 3, initialDelayMs: 50, maxDelayMs: 200, factor: 2 } });
      await client.connect();
      await jest.advanceTimersByTimeAsync(0);
    });

    /** Holds every replica's calls, makes one call, and returns it with the replica it went to. */
    async function holdOne(call: () => Promise<unknown>): Promise<{ pending: ReturnType<typeof track>; on: ReplicaProxy }> {
      proxies.forEach((each) => (each.answering = false));
      const pending = track(call());
      await jest.advanceTimersByTimeAsync(0);
      const on = [...proxies.values()].find((each) => each.heldCount === 1)!;
      proxies.forEach((each) => (each.answering = true));
      return { pending, on };
    }

    it('repeats an idempotent call lost with its connection on another replica, at once', async () => {
      const { pending, on } = await holdOne(() => client.echo({ text: 'lost, then elsewhere' }));
      on.serverUp = false;

      on.drop();
      await jest.advanceTimersByTimeAsync(0);

      expect(pending.settled()).toBe(true);
      const reply = (await pending.promise) as { address: string };
      expect(reply.address).not.toBe(on.address);
      expect(replica(on.address)).toMatchObject({ calls: 1, failures: 1, state: 'reconnecting', ejected: true });
    });

    it('does not repeat a call that is not idempotent', async () => {
      const { pending, on } = await holdOne(() => client.command({ name: 'sleep', args: ['10'] }));

      on.drop();

      await expect(pending.promise).rejects.toMatchObject({ code: 'CONNECTION_LOST' });
      expect([...proxies.values()].reduce((sum, each) => sum + each.send.mock.calls.length, 0)).toBe(1);
    });

    it('repeats a call refused with SHUTTING_DOWN elsewhere, and sends no new call to that replica until it connects again', async () => {
      proxy(B).reply = () => new Observable((subscriber) => subscriber.error(SHUTTING_DOWN));
      const served = await spread(30);

      expect(served[B]).toBeUndefined();
      expect(served[A] + served[C]).toBe(30);
      expect(proxy(B).send).toHaveBeenCalledTimes(1); // the first call it got, repeated elsewhere
      expect(replica(B)).toMatchObject({ state: 'connected', draining: true, calls: 1, failures: 1 });

      // The drained server closes the connection; a new server on the address accepts it again.
      proxy(B).reply = undefined;
      proxy(B).drop();
      await jest.advanceTimersByTimeAsync(1_000);
      expect(replica(B)).toMatchObject({ state: 'connected', draining: false });
      expect((await spread(30))[B]).toBeGreaterThanOrEqual(5);
    });

    it('ejects a replica on which calls time out, retries it after a backoff that grows, and takes it back on a reply', async () => {
      proxy(A).reply = () => NEVER;
      const timedOut = async (): Promise<void> => {
        const calls = Array.from({ length: 3 }, (_, n) =>
          client.echo({ text: String(n) }, { timeoutMs: 100 }).catch((error: unknown) => error),
        );
        await jest.advanceTimersByTimeAsync(100);
        await Promise.all(calls);
      };

      await timedOut();
      expect(replica(A)).toMatchObject({ calls: 1, failures: 1, ejected: true, inFlight: 0 });
      expect((await spread(20))[A]).toBeUndefined();
      await jest.advanceTimersByTimeAsync(100); // the first ejection: 100 ms
      expect(replica(A).ejected).toBe(false);

      await timedOut();
      expect(replica(A)).toMatchObject({ calls: 2, failures: 2, ejected: true });
      await jest.advanceTimersByTimeAsync(100);
      expect(replica(A).ejected).toBe(true); // the second: 200 ms
      await jest.advanceTimersByTimeAsync(100);
      expect(replica(A).ejected).toBe(false);

      proxy(A).reply = undefined;
      expect((await spread(30))[A]).toBe(10);
      expect(replica(A).ejected).toBe(false);
    });

    it('still uses an ejected replica when no other can serve', async () => {
      proxy(A).reply = () => NEVER;
      const calls = Array.from({ length: 3 }, (_, n) =>
        client.echo({ text: String(n) }, { timeoutMs: 100 }).catch((error: unknown) => error),
      );
      await jest.advanceTimersByTimeAsync(100);
      await Promise.all(calls);
      expect(replica(A).ejected).toBe(true);
      proxy(A).reply = undefined;
      for (const address of [B, C]) {
        proxy(address).serverUp = false;
        proxy(address).drop();
      }

      await expect(echo()).resolves.toBe(A);
    });

    it('fails fast when every replica is in an outage, and waits for one to come back otherwise', async () => {
      for (const each of proxies.values()) {
        each.serverUp = false;
        each.drop();
      }

      const failFast = await rejection(client.echo({ text: 'x' }, { whenDisconnected: 'fail-fast', retry: false }));
      expect(failFast.message).toMatch(/^not connected to any of the 3 replicas of echo:1 \(10\.0\.0\.1 reconnecting, .*; last error: /);
      const patient = track(client.echo({ text: 'x' }, { timeoutMs: 5_000 }));
      await jest.advanceTimersByTimeAsync(500);
      expect(patient.settled()).toBe(false);
      proxy(C).serverUp = true;
      await jest.advanceTimersByTimeAsync(1_000);

      await expect(patient.promise).resolves.toMatchObject({ address: C });
    });
  });

  describe('a call for one replica', () => {
    it('goes to that replica only', async () => {
      await client.connect();
      await jest.advanceTimersByTimeAsync(0);

      for (const address of [C, C, A]) {
        await expect(client.hello({}, { replica: address })).resolves.toMatchObject({ address });
      }
      await client.note({ text: 'to B' }, { replica: B });

      expect(proxy(C).send).toHaveBeenCalledTimes(2);
      expect(proxy(B).emit).toHaveBeenCalledTimes(1);
    });

    it('fails with NOT_SENT for an address that is not a replica', async () => {
      await client.connect();

      await expect(client.hello({}, { replica: '10.9.9.9' })).rejects.toMatchObject({
        code: 'NOT_SENT',
        message: 'not sent: no replica 10.9.9.9 (replicas: 10.0.0.1, 10.0.0.2, 10.0.0.3)',
      });
    });
  });

  it('on close, stops resolving and closes every replica, leaving no timer', async () => {
    await client.connect();
    await jest.advanceTimersByTimeAsync(0);
    const waiting = track(client.echo({ text: 'x' }));

    await client.close();

    expect([...proxies.values()].every((each) => each.closed)).toBe(true);
    await expect(waiting.promise).resolves.toBeDefined(); // answered before the close
    expect(jest.getTimerCount()).toBe(0);
    expect(client.connectionInfo().state).toBe('closed');
    await expect(client.echo({ text: 'x' })).rejects.toMatchObject({ code: 'CONNECTION_CLOSED' });
    await jest.advanceTimersByTimeAsync(INTERVAL_MS * 2);
    expect(resolver).toHaveBeenCalledTimes(1);
  });
});

describe('EchoClient.create', () => {
  afterEach(() => {
    jest.restoreAllMocks();
  });

  it('for a name, builds one TCP proxy per address it resolves to, checking TLS against the name', async () => {
    const built: Array<Record<string, unknown>> = [];
    jest.spyOn(ClientProxyFactory, 'create').mockImplementation((options) => {
      built.push((options as { options: Record<string, unknown> }).options);
      return new ReplicaProxy(String(built.length)).asClientProxy();
    });
    const client = EchoClient.create({
      host: 'echo-server',
      port: 3000,
      resolver: () => Promise.resolve(['10.0.0.7', '10.0.0.8']),
      transport: { tlsOptions: { ca: 'CA' } },
    });
    expect(built).toEqual([]);

    await client.connect();

    expect(built.map(({ host, port, tlsOptions }) => ({ host, port, tlsOptions }))).toEqual([
      { host: '10.0.0.7', port: 3000, tlsOptions: { ca: 'CA', servername: 'echo-server' } },
      { host: '10.0.0.8', port: 3000, tlsOptions: { ca: 'CA', servername: 'echo-server' } },
    ]);
    expectLogged('log', 'echo-server:3000 resolves to 2 replicas (10.0.0.7, 10.0.0.8)', { times: 1, context: 'EchoClient' });
    await client.close();
  });

  it('for an IP address, builds its one proxy at once and never resolves', async () => {
    const create = jest.spyOn(ClientProxyFactory, 'create').mockImplementation(() => new ReplicaProxy('x').asClientProxy());
    const resolver = jest.fn(() => Promise.resolve(['10.0.0.1']));

    const client = EchoClient.create({ host: '127.0.0.1', port: 3000, resolver });
    await client.connect();

    expect(create).toHaveBeenCalledTimes(1);
    expect(resolver).not.toHaveBeenCalled();
    expect(client.connectionInfo()).toMatchObject({ state: 'connected', replicas: [{ address: '127.0.0.1', state: 'connected' }] });
    expect(client.connectionInfo().resolution).toBeUndefined();
    await client.close();
  });
});
