import {
  EVENT_PATTERNS,
  REQUEST_PATTERNS,
  RpcClientError,
  type ConnectFailure,
  type ConnectionState,
  type EchoClient,
  type HelloRequest,
  type HelloResponse,
  type RequestOptions,
} from '@echo-pair/common';
import { Subject } from 'rxjs';
import { CapturedOutput } from '../testing/captured-output';
import { FakeEchoClient, rejection } from '../testing/fake-echo-client';
import { workerEnvironment } from '../testing/worker-config';
import { ServerConnector } from './server-connector.service';
import { ServerUnavailableError } from './server-unavailable.error';

describe('ServerConnector', () => {
  const refused = (): RpcClientError =>
    new RpcClientError({ code: 'CONNECTION_FAILED', message: 'ECONNREFUSED: connect ECONNREFUSED 127.0.0.1:4999', pattern: 'hello' });
  const fast = { ECHO_SERVER_PORT: '4999', RECONNECT_BACKOFF_MS: '2', RECONNECT_BACKOFF_MAX_MS: '5', WORKER_NAME: 'tester' };

  let fake: FakeEchoClient;
  let output: CapturedOutput;
  let hello: jest.Mock<Promise<HelloResponse>, [HelloRequest?, RequestOptions?]>;
  /** The client's keepers reporting their failed connects, and the client's state. */
  let failures: Subject<ConnectFailure>;
  let state: ConnectionState;

  beforeEach(() => {
    fake = new FakeEchoClient();
    output = new CapturedOutput();
    hello = jest.fn<Promise<HelloResponse>, [HelloRequest?, RequestOptions?]>();
    failures = new Subject<ConnectFailure>();
    state = 'reconnecting';
  });

  function connector(environment: Record<string, string>): ServerConnector {
    const client = { hello, connectFailures: failures.asObservable(), connectionInfo: () => ({ state }) } as unknown as EchoClient;
    return new ServerConnector(client, output, workerEnvironment({ ...fast, ...environment }));
  }

  /** A `hello` that waits for the connection until the test answers it. */
  function pendingHello(): { resolve(reply: HelloResponse): void; reject(error: unknown): void } {
    const answer = { resolve: (_: HelloResponse): void => undefined, reject: (_: unknown): void => undefined };
    hello.mockImplementation(() => new Promise<HelloResponse>((resolve, reject) => Object.assign(answer, { resolve, reject })));
    return { resolve: (reply) => answer.resolve(reply), reject: (error) => answer.reject(error) };
  }

  function connectFailed(retryInMs: number | undefined): void {
    failures.next({ target: '127.0.0.1:4999', error: refused(), consecutiveFailures: 1, retryInMs });
  }

  it('retries until the server answers, one line per failed attempt, then prints the welcome', async () => {
    const welcome = fake.helloReply();
    hello.mockRejectedValueOnce(refused()).mockRejectedValueOnce(refused()).mockResolvedValue(welcome);

    const reply = await connector({ CONNECT_ATTEMPTS: '5' }).waitForServer();

    expect(reply).toBe(welcome);
    expect(hello).toHaveBeenCalledTimes(3);
    // Each hello waits for the keeper's connection, within what is left of the start-up's time.
    expect(hello).toHaveBeenCalledWith({ client: 'tester' }, { whenDisconnected: 'wait', timeoutMs: expect.any(Number) as number });
    expect(output.lines.slice(0, 2)).toEqual([
      expect.stringMatching(
        /^server 127\.0\.0\.1:4999 not ready \(CONNECTION_FAILED: ECONNREFUSED: connect ECONNREFUSED 127\.0\.0\.1:4999\), attempt 1\/5, retrying in [12] ms$/,
      ),
      expect.stringMatching(/^server 127\.0\.0\.1:4999 not ready \(.*\), attempt 2\/5, retrying in [2-4] ms$/),
    ]);
    expect(output.lines.slice(2)).toEqual([
      'connected to fake-echo-server 0.0.0 (instance test) at 127.0.0.1:4999 after 3 attempts',
      '  welcome   Welcome to the fake echo server!',
      `  patterns  requests: ${REQUEST_PATTERNS.join(', ')}; events: ${EVENT_PATTERNS.join(', ')}`,
      '  commands  upper, lower, reverse, time, uptime, sleep, help, stats',
    ]);
  });

  it('waits longer after each failure, up to the cap', async () => {
    hello.mockRejectedValue(refused());

    await expect(
      connector({ CONNECT_ATTEMPTS: '6', RECONNECT_BACKOFF_MS: '10', RECONNECT_BACKOFF_MAX_MS: '40' }).waitForServer(),
    ).rejects.toThrow(ServerUnavailableError);

    const waits = output.lines.flatMap((line) => /retrying in (\d+) ms$/.exec(line)?.slice(1) ?? []).map(Number);
    const steps = [10, 20, 40, 40, 40];
    expect(waits).toHaveLength(5);
    waits.forEach((wait, index) => {
      expect(wait).toBeGreaterThanOrEqual(steps[index] / 2);
      expect(wait).toBeLessThanOrEqual(steps[index]);
    });
  });

  it('gives up after the last attempt with a clear error', async () => {
    hello.mockRejectedValue(refused());

    const failure = connector({ CONNECT_ATTEMPTS: '3' }).waitForServer();

    await expect(failure).rejects.toThrow(ServerUnavailableError);
    await expect(failure).rejects.toThrow(
      'no echo server answered at 127.0.0.1:4999 after 3 attempts (last error CONNECTION_FAILED: ECONNREFUSED: connect ECONNREFUSED 127.0.0.1:4999); ' +
        'is it running? check ECHO_SERVER_HOST and ECHO_SERVER_PORT',
    );
    expect(hello).toHaveBeenCalledTimes(3);
    expect(output.lines).toHaveLength(3);
    expect(output.lines.at(-1)).toMatch(/, attempt 3\/3, giving up$/);
  });

  it('tries once when CONNECT_ATTEMPTS is 1', async () => {
    hello.mockRejectedValue(refused());

    await expect(connector({ CONNECT_ATTEMPTS: '1' }).waitForServer()).rejects.toThrow(/after 1 attempt \(/);
    expect(hello).toHaveBeenCalledTimes(1);
  });

  it.each(['TIMEOUT', 'CONNECTION_LOST'] as const)('retries a %s, as waiting may cure it', async (code) => {
    const welcome = fake.helloReply();
    hello.mockRejectedValueOnce(new RpcClientError({ code, message: 'transport trouble', pattern: 'hello' })).mockResolvedValue(welcome);

    await expect(connector({ CONNECT_ATTEMPTS: '2' }).waitForServer()).resolves.toBe(welcome);
    expect(output.lines[0]).toMatch(new RegExp(`not ready \\(${code}: transport trouble\\), attempt 1/2, retrying in`));
  });

  it('does not retry a reply the contract does not describe', async () => {
    hello.mockRejectedValue(new RpcClientError({ code: 'REMOTE_ERROR', message: 'Internal server error', pattern: 'hello' }));

    await expect(connector({ CONNECT_ATTEMPTS: '5' }).waitForServer()).rejects.toThrow(
      'refused hello (REMOTE_ERROR: Internal server error)',
    );
    expect(hello).toHaveBeenCalledTimes(1);
  });

  it('does not retry when the server answers with an error', async () => {
    hello.mockRejectedValue(
      rejection('hello', {
        code: 'VALIDATION_FAILED',
        message: 'bad hello',
        details: { violations: [{ field: 'client', constraints: { maxLength: 'too long' } }] },
      }),
    );

    await expect(connector({ CONNECT_ATTEMPTS: '5' }).waitForServer()).rejects.toThrow(
      'the echo server at 127.0.0.1:4999 refused hello (VALIDATION_FAILED: bad hello)',
    );
    expect(hello).toHaveBeenCalledTimes(1);
    expect(output.lines).toEqual([]);
  });

  describe("the keeper's failed connects", () => {
    it('prints each and counts it as an attempt, then prints the welcome once connected', async () => {
      const answer = pendingHello();
      const waiting = connector({ CONNECT_ATTEMPTS: '5' }).waitForServer();
      connectFailed(2);
      connectFailed(3);
      answer.resolve(fake.helloReply());

      await waiting;
      expect(hello).toHaveBeenCalledTimes(1);
      expect(output.lines.slice(0, 3)).toEqual([
        expect.stringMatching(/^server 127\.0\.0\.1:4999 not ready \(CONNECTION_FAILED: .*\), attempt 1\/5, retrying in 2 ms$/),
        expect.stringMatching(/^server 127\.0\.0\.1:4999 not ready \(CONNECTION_FAILED: .*\), attempt 2\/5, retrying in 3 ms$/),
        'connected to fake-echo-server 0.0.0 (instance test) at 127.0.0.1:4999 after 3 attempts',
      ]);
    });

    it('gives up after CONNECT_ATTEMPTS of them, without waiting for the hello', async () => {
      pendingHello();
      const failure = connector({ CONNECT_ATTEMPTS: '2' }).waitForServer();
      connectFailed(2);
      connectFailed(3);

      await expect(failure).rejects.toThrow(
        'no echo server answered at 127.0.0.1:4999 after 2 attempts (last error CONNECTION_FAILED: ECONNREFUSED: connect ECONNREFUSED 127.0.0.1:4999); ' +
          'is it running? check ECHO_SERVER_HOST and ECHO_SERVER_PORT',
      );
      expect(output.lines.at(-1)).toMatch(/, attempt 2\/2, giving up$/);
    });

    it("does not count a replica's failure while another replica is connected", async () => {
      const answer = pendingHello();
      const waiting = connector({ CONNECT_ATTEMPTS: '1' }).waitForServer();
      state = 'connected';
      connectFailed(2);
      answer.resolve(fake.helloReply());

      await expect(waiting).resolves.toBeDefined();
      expect(output.lines[0]).toBe('connected to fake-echo-server 0.0.0 (instance test) at 127.0.0.1:4999');
    });

    it('leaves a failure without a next attempt (no reconnect) to the hello that waited on it', async () => {
      const answer = pendingHello();
      const waiting = connector({ CONNECT_ATTEMPTS: '1' }).waitForServer();
      connectFailed(undefined);
      expect(output.lines).toEqual([]);
      answer.reject(refused());

      await expect(waiting).rejects.toThrow(/after 1 attempt \(/);
      expect(output.lines).toEqual([expect.stringMatching(/, attempt 1\/1, giving up$/)]);
    });

    it('stops listening once the start-up is over', async () => {
      hello.mockResolvedValue(fake.helloReply());
      await connector({}).waitForServer();

      expect(failures.observed).toBe(false);
    });
  });

  it("gives up when the start-up's time, CONNECT_ATTEMPTS × CALL_TIMEOUT_MS, has passed (an attempt that hangs)", async () => {
    hello.mockRejectedValue(
      new RpcClientError({
        code: 'CONNECTION_FAILED',
        message: 'not connected to 127.0.0.1:4999 within 200 ms (connecting)',
        pattern: 'hello',
      }),
    );
    const now = Date.now();
    const clock = jest.spyOn(Date, 'now').mockReturnValue(now);
    const failure = connector({ CONNECT_ATTEMPTS: '2', CALL_TIMEOUT_MS: '100' }).waitForServer();
    clock.mockReturnValue(now + 200);

    await expect(failure).rejects.toThrow(
      'no echo server answered at 127.0.0.1:4999 within 200 ms (last error CONNECTION_FAILED: not connected to 127.0.0.1:4999 within 200 ms',
    );
    expect(hello).toHaveBeenCalledWith({ client: 'tester' }, { whenDisconnected: 'wait', timeoutMs: 200 });
    clock.mockRestore();
  });
});
