import {
  EVENT_PATTERNS,
  REQUEST_PATTERNS,
  RpcClientError,
  type ConnectFailure,
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
    new RpcClientError({ code: 'CONNECTION_FAILED', message: 'ECONNREFUSED: connect ECONNREFUSED 127.0.0.1:4999', pattern: 'connect' });
  const base = { ECHO_SERVER_PORT: '4999', WORKER_NAME: 'tester' };

  let fake: FakeEchoClient;
  let output: CapturedOutput;
  /** The client's keeper reporting its failed attempts. */
  let failures: Subject<ConnectFailure>;
  let hello: jest.Mock<Promise<HelloResponse>, [HelloRequest?, RequestOptions?]>;
  let answer: { resolve(reply: HelloResponse): void; reject(error: unknown): void };

  beforeEach(() => {
    fake = new FakeEchoClient();
    output = new CapturedOutput();
    failures = new Subject<ConnectFailure>();
    hello = jest.fn<Promise<HelloResponse>, [HelloRequest?, RequestOptions?]>(
      () => new Promise<HelloResponse>((resolve, reject) => (answer = { resolve, reject })),
    );
  });

  function connector(environment: Record<string, string> = {}): ServerConnector {
    const client = { hello, connectFailures: failures.asObservable() } as unknown as EchoClient;
    return new ServerConnector(client, output, workerEnvironment({ ...base, ...environment }));
  }

  function fail(retryInMs: number | undefined, error = refused()): void {
    failures.next({ target: '127.0.0.1:4999', error, consecutiveFailures: 0, retryInMs });
  }

  it('waits for the connection, one line per failed attempt of the keeper, then prints the welcome', async () => {
    const welcome = fake.helloReply();
    const waiting = connector({ CONNECT_ATTEMPTS: '5' }).waitForServer();
    fail(2);
    fail(3);
    answer.resolve(welcome);

    expect(await waiting).toBe(welcome);
    // One hello, which waits for the keeper's connection (no retry loop of its own) within its attempts × CALL_TIMEOUT_MS.
    expect(hello).toHaveBeenCalledTimes(1);
    expect(hello).toHaveBeenCalledWith({ client: 'tester' }, { whenDisconnected: 'wait', timeoutMs: 25_000, retry: true });
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

  it('gives up after the last attempt with a clear error', async () => {
    const failure = connector({ CONNECT_ATTEMPTS: '3' }).waitForServer();
    fail(1);
    fail(2);
    fail(4);

    await expect(failure).rejects.toThrow(ServerUnavailableError);
    await expect(failure).rejects.toThrow(
      'no echo server answered at 127.0.0.1:4999 after 3 attempts (last error CONNECTION_FAILED: ECONNREFUSED: connect ECONNREFUSED 127.0.0.1:4999); ' +
        'is it running? check ECHO_SERVER_HOST and ECHO_SERVER_PORT',
    );
    expect(hello).toHaveBeenCalledTimes(1);
    expect(output.lines).toHaveLength(3);
    expect(output.lines.at(-1)).toMatch(/, attempt 3\/3, giving up$/);
  });

  it('tries once when CONNECT_ATTEMPTS is 1', async () => {
    const failure = connector({ CONNECT_ATTEMPTS: '1' }).waitForServer();
    fail(100);

    await expect(failure).rejects.toThrow(/after 1 attempt \(/);
    expect(hello).toHaveBeenCalledTimes(1);
  });

  it('gives up at the first failure of a client that does not reconnect (no next attempt)', async () => {
    const failure = connector({ CONNECT_ATTEMPTS: '5' }).waitForServer();
    fail(undefined);

    await expect(failure).rejects.toThrow(/^no echo server answered at 127\.0\.0\.1:4999 after 1 attempt \(/);
    expect(output.lines).toEqual([expect.stringMatching(/, attempt 1\/5, giving up$/)]);
  });

  it('gives up when the hello finds no connection within its deadline (an attempt that hangs)', async () => {
    const failure = connector({ CONNECT_ATTEMPTS: '2', CALL_TIMEOUT_MS: '100' }).waitForServer();
    answer.reject(
      new RpcClientError({
        code: 'CONNECTION_FAILED',
        message: 'not connected to 127.0.0.1:4999 within 200 ms (connecting, 0 failed of 1 attempts)',
        pattern: 'hello',
      }),
    );

    await expect(failure).rejects.toThrow(
      'no echo server answered at 127.0.0.1:4999 within 200 ms (last error CONNECTION_FAILED: not connected to 127.0.0.1:4999 within 200 ms',
    );
    expect(output.lines).toEqual([expect.stringMatching(/^server 127\.0\.0\.1:4999 not ready \(.*\), giving up$/)]);
  });

  it('does not retry a reply the contract does not describe', async () => {
    const failure = connector({ CONNECT_ATTEMPTS: '5' }).waitForServer();
    answer.reject(new RpcClientError({ code: 'REMOTE_ERROR', message: 'Internal server error', pattern: 'hello' }));

    await expect(failure).rejects.toThrow('refused hello (REMOTE_ERROR: Internal server error)');
    expect(hello).toHaveBeenCalledTimes(1);
  });

  it('does not retry when the server answers with an error', async () => {
    const failure = connector({ CONNECT_ATTEMPTS: '5' }).waitForServer();
    answer.reject(
      rejection('hello', {
        code: 'VALIDATION_FAILED',
        message: 'bad hello',
        details: { violations: [{ field: 'client', constraints: { maxLength: 'too long' } }] },
      }),
    );

    await expect(failure).rejects.toThrow('the echo server at 127.0.0.1:4999 refused hello (VALIDATION_FAILED: bad hello)');
    expect(hello).toHaveBeenCalledTimes(1);
    expect(output.lines).toEqual([]);
  });

  it('stops listening to the keeper once it is done', async () => {
    const waiting = connector().waitForServer();
    answer.resolve(fake.helloReply());
    await waiting;

    expect(failures.observed).toBe(false);
  });
});
