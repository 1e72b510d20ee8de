import {
  EVENT_PATTERNS,
  REQUEST_PATTERNS,
  RpcClientError,
  type EchoClient,
  type HelloRequest,
  type HelloResponse,
} from '@echo-pair/common';
import { CapturedOutput } from '../testing/captured-output';
import { FakeEchoClient, rejection } from '../testing/fake-echo-client';
import { workerConfig } from '../testing/worker-config';
import { ServerConnector } from './server-connector.service';
import { ServerUnavailableError } from './server-unavailable.error';

describe('ServerConnector', () => {
  const refused = (): RpcClientError =>
    new RpcClientError({ code: 'CONNECTION_FAILED', message: 'ECONNREFUSED: connect ECONNREFUSED 127.0.0.1:4999', pattern: 'hello' });
  const fast = { ECHO_SERVER_PORT: '4999', CONNECT_BACKOFF_MS: '2', CONNECT_BACKOFF_MAX_MS: '5', WORKER_NAME: 'tester' };

  let fake: FakeEchoClient;
  let output: CapturedOutput;
  let hello: jest.Mock<Promise<HelloResponse>, [HelloRequest?]>;

  beforeEach(() => {
    fake = new FakeEchoClient();
    output = new CapturedOutput();
    hello = jest.fn<Promise<HelloResponse>, [HelloRequest?]>();
  });

  function connector(environment: Record<string, string>): ServerConnector {
    return new ServerConnector({ hello } as unknown as EchoClient, output, workerConfig({ ...fast, ...environment }));
  }

  it('retries until the server answers, one line per failed attempt, then prints the welcome', async () => {
    const welcome = fake.helloReply();
    hello.mockRejectedValueOnce(refused()).mockRejectedValueOnce(refused()).mockResolvedValue(welcome);

    const reply = await connector({ CONNECT_ATTEMPTS: '5' }).waitForServer();

    expect(reply).toBe(welcome);
    expect(hello).toHaveBeenCalledTimes(3);
    expect(hello).toHaveBeenCalledWith({ client: 'tester' }, { whenDisconnected: 'fail-fast' }); // its own retry loop probes
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
      connector({ CONNECT_ATTEMPTS: '6', CONNECT_BACKOFF_MS: '10', CONNECT_BACKOFF_MAX_MS: '40' }).waitForServer(),
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
});
