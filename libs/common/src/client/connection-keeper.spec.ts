import type { ClientProxy } from '@nestjs/microservices';
import { Subject } from 'rxjs';
import type { ConnectFailure, ConnectionState } from './connection-info';
import { ConnectionKeeper } from './connection-keeper';
import { DEFAULT_RECONNECT, type ReconnectOptions } from './echo-client-options';
import { expectLogged } from '../../../../test/support/captured-logs';

/** A proxy whose connects fail while `up` is false, and whose `status` the test drives. */
class StandInProxy {
  up = false;
  connects = 0;
  readonly status = new Subject<string>();

  connect(): Promise<void> {
    this.connects += 1;
    if (this.up) {
      return Promise.resolve();
    }
    return Promise.reject(Object.assign(new Error('connect ECONNREFUSED 127.0.0.1:1'), { code: 'ECONNREFUSED' }));
  }

  unwrap(): never {
    throw new Error('no socket');
  }
}

describe('ConnectionKeeper', () => {
  let proxy: StandInProxy;
  let keeper: ConnectionKeeper;
  let states: ConnectionState[];
  let failures: ConnectFailure[];

  function keep(policy: ReconnectOptions = {}): ConnectionKeeper {
    keeper = new ConnectionKeeper(proxy as unknown as ClientProxy, { ...DEFAULT_RECONNECT, ...policy }, '127.0.0.1:1');
    keeper.changes.subscribe((state) => states.push(state));
    keeper.failures.subscribe((failure) => failures.push(failure));
    return keeper;
  }

  beforeEach(() => {
    jest.useFakeTimers();
    proxy = new StandInProxy();
    states = [];
    failures = [];
  });

  afterEach(() => {
    keeper.close();
    jest.useRealTimers();
  });

  it('moves through the states of its table: connect, open, drop, backoff, reconnect, close', async () => {
    keep({ initialDelayMs: 100, maxDelayMs: 100 });
    proxy.up = true;
    await keeper.connect();
    proxy.status.next('disconnected');
    await jest.advanceTimersByTimeAsync(100);
    keeper.close();

    expect(states).toEqual(['idle', 'connecting', 'connected', 'reconnecting', 'connecting', 'connected', 'closed']);
    expect(keeper.info()).toMatchObject({ state: 'closed', attempts: 2, connects: 2, drops: 1, consecutiveFailures: 0 });
    expectLogged('warn', /^connection to 127\.0\.0\.1:1 lost; reconnecting$/, { times: 1, context: 'EchoClient' });
    expectLogged('log', 'reconnected to 127.0.0.1:1 after 1 attempt(s)', { times: 1, context: 'EchoClient' });
  });

  it('reports each failed attempt with when the next one starts, its waits growing up to the cap', async () => {
    keep({ initialDelayMs: 5, maxDelayMs: 40 });
    await expect(keeper.connect()).rejects.toMatchObject({ code: 'CONNECTION_FAILED' });
    for (let step = 0; step < 100 && failures.length < 6; step += 1) {
      await jest.advanceTimersByTimeAsync(5);
    }

    expect(failures.map((failure) => failure.consecutiveFailures)).toEqual([1, 2, 3, 4, 5, 6]);
    expect(failures[0]).toMatchObject({ target: '127.0.0.1:1', error: { code: 'CONNECTION_FAILED', retryable: true } });
    const waits = failures.slice(0, 5).map((failure) => failure.retryInMs!);
    const steps = [10, 20, 40, 40, 40];
    waits.forEach((wait, index) => {
      expect(wait).toBeGreaterThanOrEqual(steps[index] / 2);
      expect(wait).toBeLessThanOrEqual(steps[index]);
    });
    expect(keeper.state).toBe('reconnecting');
  });

  it('cancels a pending backoff when asked to connect now', async () => {
    keep({ initialDelayMs: 10_000, maxDelayMs: 10_000 });
    await expect(keeper.connect()).rejects.toMatchObject({ code: 'CONNECTION_FAILED' });
    proxy.up = true;

    await keeper.connect();

    expect(states).toEqual(['idle', 'connecting', 'reconnecting', 'connecting', 'connected']);
    expect(jest.getTimerCount()).toBe(0);
    expectLogged('log', 'reconnected to 127.0.0.1:1 after 2 attempt(s)', { times: 1, context: 'EchoClient' });
  });

  it('without reconnect, goes back to idle after a failure and reports no next attempt', async () => {
    keep({ enabled: false });
    await expect(keeper.connect()).rejects.toMatchObject({ code: 'CONNECTION_FAILED' });

    expect(states).toEqual(['idle', 'connecting', 'idle']);
    expect(failures).toEqual([expect.objectContaining({ consecutiveFailures: 1, retryInMs: undefined })]);
    expect(jest.getTimerCount()).toBe(0);
  });

  it('ignores events its table has no change for: a drop while not connected, a close once closed', async () => {
    keep();
    proxy.status.next('disconnected');
    keeper.close();
    keeper.close();

    expect(states).toEqual(['idle', 'closed']);
    expect(keeper.info().drops).toBe(0);
    await expect(keeper.connect()).rejects.toMatchObject({ code: 'CONNECTION_CLOSED' });
  });

  it('abandons the attempt under way when closed, and ends its streams', async () => {
    keep();
    const completed = jest.fn();
    keeper.failures.subscribe({ complete: completed });
    proxy.connect = () => new Promise<void>(() => undefined); // never settles
    const attempt = keeper.connect();

    keeper.close();

    await expect(attempt).rejects.toMatchObject({ code: 'CONNECTION_CLOSED' });
    expect(states).toEqual(['idle', 'connecting', 'closed']);
    expect(completed).toHaveBeenCalled();
    expect(failures).toEqual([]);
  });
});
