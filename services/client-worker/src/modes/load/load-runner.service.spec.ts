import { RpcClientError, type EchoRequest, type EchoResponse } from '@echo-pair/common';
import { CapturedOutput } from '../../testing/captured-output';
import { deferred } from '../../testing/deferred';
import { FakeEchoClient } from '../../testing/fake-echo-client';
import { ManualClock } from '../../testing/manual-clock';
import { workerEnvironment } from '../../testing/worker-config';
import { LoadRunner } from './load-runner.service';

function echoReply(text: string): EchoResponse {
  return { text, receivedAt: '', bytes: text.length, codeUnits: text.length, codePoints: text.length };
}

/** Lets the other lanes run before this one goes on: requests overlap without any time passing. */
const nextTurn = (): Promise<void> => new Promise((resolve) => setImmediate(resolve));

describe('LoadRunner', () => {
  let clients: FakeEchoClient[];
  let output: CapturedOutput;

  beforeEach(() => {
    clients = [new FakeEchoClient()];
    output = new CapturedOutput();
  });

  afterEach(() => {
    jest.restoreAllMocks();
  });

  /** Every echo takes `latencyMs` of the clock: the clock moves when the request is sent. */
  function answerAfter(clock: ManualClock, latencyMs: number): void {
    clients[0].echo = ({ text }: EchoRequest) => {
      clock.advance(latencyMs);
      return Promise.resolve(echoReply(text));
    };
  }

  function runner(environment: Record<string, string>): LoadRunner {
    const createClient = () => {
      const client = new FakeEchoClient();
      clients.push(client);
      return client.asEchoClient();
    };
    return new LoadRunner(clients[0].asEchoClient(), output, workerEnvironment(environment), createClient);
  }

  const summary = (): string => output.lines.find((line) => line.startsWith('summary:')) ?? '';

  it('sends every request over all connections and succeeds when every reply matches', async () => {
    const code = await runner({ LOAD_REQUESTS: '200', LOAD_CONCURRENCY: '8', LOAD_CONNECTIONS: '3', LOAD_TEXT_LENGTH: '32' }).run();

    expect(code).toBe(0);
    expect(clients).toHaveLength(3);
    expect(clients.map((client) => client.echoes).reduce((a, b) => a + b)).toBe(200);
    expect(clients.every((client) => client.echoes > 0)).toBe(true);
    const echoes = clients.flatMap((client) => client.calls.filter((call) => call.pattern === 'echo'));
    const texts = echoes.map((call) => (call.payload as { text: string }).text);
    expect(new Set(texts).size).toBe(200);
    expect(texts.every((text) => text.length === 32)).toBe(true);
    expect(summary()).toMatch(/^summary: sent 200, ok 200, errors 0, duration \d+\.\d{3} s, \d+ req\/s$/);
    expect(output.lines).toContainEqual(expect.stringMatching(/^latency ms: p50 \d+\.\d, p90 \d+\.\d, p99 \d+\.\d, max \d+\.\d$/));
    expect(output.lines.some((line) => line.startsWith('errors by code'))).toBe(false);
  });

  it('closes the extra clients but leaves the injected one to Nest', async () => {
    await runner({ LOAD_REQUESTS: '10', LOAD_CONNECTIONS: '4' }).run();

    expect(clients.map((client) => client.closed)).toEqual([false, true, true, true]);
  });

  it('opens no more connections than there are requests in flight', async () => {
    await runner({ LOAD_REQUESTS: '10', LOAD_CONCURRENCY: '2', LOAD_CONNECTIONS: '4' }).run();

    expect(clients).toHaveLength(2);
    expect(output.lines).toContain('load: 10 echoes of 64 characters, 2 in flight over 2 connections, for at most 60 s');
  });

  it('keeps at most LOAD_CONCURRENCY requests in flight', async () => {
    let inFlight = 0;
    let maxInFlight = 0;
    const echo = clients[0].echo.bind(clients[0]);
    clients[0].echo = async (request) => {
      maxInFlight = Math.max(maxInFlight, ++inFlight);
      await nextTurn();
      inFlight -= 1;
      return echo(request);
    };

    expect(await runner({ LOAD_REQUESTS: '50', LOAD_CONCURRENCY: '5', LOAD_CONNECTIONS: '1' }).run()).toBe(0);
    expect(maxInFlight).toBe(5);
  });

  it('counts mismatched replies and failed calls as errors, by code', async () => {
    let calls = 0;
    const echo = clients[0].echo.bind(clients[0]);
    clients[0].echo = async (request) => {
      calls += 1;
      if (calls % 10 === 0) {
        throw new RpcClientError({ code: 'TIMEOUT', message: 'no reply', pattern: 'echo' });
      }
      const reply = await echo(request);
      return calls % 25 === 0 ? { ...reply, text: reply.text.toUpperCase() } : reply;
    };

    const code = await runner({ LOAD_REQUESTS: '100', LOAD_CONCURRENCY: '4', LOAD_CONNECTIONS: '1' }).run();

    expect(code).toBe(1);
    expect(summary()).toMatch(/^summary: sent 100, ok 88, errors 12,/);
    expect(output.lines).toContain('errors by code: TIMEOUT 10, MISMATCH 2');
  });

  it('issues no request once LOAD_MAX_SECONDS have passed', async () => {
    // 20 ms per request, one after another on the clock: 1 s has room for exactly 50.
    answerAfter(new ManualClock().install(), 20);

    const code = await runner({ LOAD_REQUESTS: '10000', LOAD_CONCURRENCY: '2', LOAD_CONNECTIONS: '1', LOAD_MAX_SECONDS: '1' }).run();

    expect(code).toBe(1);
    expect(summary()).toBe('summary: sent 50, ok 50, errors 0, duration 1.000 s, 50 req/s');
    expect(output.lines).toContain('stopped early: the time limit of 1 s was reached; 50 of 10000 requests sent');
  });

  it('prints progress once per second of the run, and none at its end', async () => {
    answerAfter(new ManualClock().install(), 10);

    await runner({ LOAD_REQUESTS: '10000', LOAD_CONCURRENCY: '4', LOAD_CONNECTIONS: '1', LOAD_MAX_SECONDS: '3' }).run();

    const progress = output.lines.filter((line) => line.startsWith('progress:'));
    expect(progress).toHaveLength(2);
    // 10 ms per request: 100 were sent in each second; those in flight are not ok yet.
    expect(progress).toEqual([
      expect.stringMatching(/^progress: 100\/10000 sent, 9\d ok, 0 errors, 9\d req\/s$/),
      expect.stringMatching(/^progress: 200\/10000 sent, 19\d ok, 0 errors, 9\d req\/s$/),
    ]);
    expect(summary()).toMatch(/^summary: sent 300, ok 300, errors 0, duration 3\.000 s, 100 req\/s$/);
  });

  it('adds to each progress line the calls every replica address has carried so far, also one dropped since', async () => {
    const clock = new ManualClock().install();
    // 10 ms per echo, to each of two replicas in turn; 1.5 s into the run 10.0.0.10 is dropped
    // (as when its task is replaced), and 10.0.0.11 takes its place.
    const addresses = () => (clock.now() <= 2_500 ? ['10.0.0.9', '10.0.0.10'] : ['10.0.0.9', '10.0.0.11']);
    const served = new Map<string, number>();
    clients[0].echo = ({ text }: EchoRequest) => {
      clock.advance(10);
      const address = addresses()[clients[0].echoes % 2];
      clients[0].echoes += 1;
      served.set(address, (served.get(address) ?? 0) + 1);
      return Promise.resolve(echoReply(text));
    };
    clients[0].replicas = () =>
      addresses().map((address) => ({ address, calls: served.get(address) ?? 0, failures: address === '10.0.0.10' ? 3 : 0 }));

    await runner({ LOAD_REQUESTS: '10000', LOAD_CONCURRENCY: '1', LOAD_CONNECTIONS: '1', LOAD_MAX_SECONDS: '3' }).run();

    expect(output.lines.filter((line) => line.startsWith('progress:'))).toEqual([
      'progress: 100/10000 sent, 100 ok, 0 errors, 100 req/s, replicas 10.0.0.9=50 10.0.0.10=50/3',
      'progress: 200/10000 sent, 200 ok, 0 errors, 100 req/s, replicas 10.0.0.9=100 10.0.0.10=75/3 10.0.0.11=25',
    ]);
  });

  it('counts the calls per replica as of the progress line itself, not of the last sample before it', async () => {
    const clock = new ManualClock().install();
    // 30 ms per echo: the line comes at 1.02 s, 60 ms after the last 100 ms sample.
    const served = new Map<string, number>();
    clients[0].echo = ({ text }: EchoRequest) => {
      clock.advance(30);
      const address = clients[0].echoes % 2 === 0 ? '10.0.0.1' : '10.0.0.2';
      clients[0].echoes += 1;
      served.set(address, (served.get(address) ?? 0) + 1);
      return Promise.resolve(echoReply(text));
    };
    clients[0].replicas = () => [...served].map(([address, calls]) => ({ address, calls, failures: 0 }));

    await runner({ LOAD_REQUESTS: '10000', LOAD_CONCURRENCY: '1', LOAD_CONNECTIONS: '1', LOAD_MAX_SECONDS: '2' }).run();

    expect(output.lines.filter((line) => line.startsWith('progress:'))).toEqual([
      'progress: 34/10000 sent, 34 ok, 0 errors, 33 req/s, replicas 10.0.0.1=17 10.0.0.2=17',
    ]);
  });

  it('keeps the progress line as it was while the calls go to a single address', async () => {
    answerAfter(new ManualClock().install(), 10);
    clients[0].replicas = () => [{ address: '10.0.0.9', calls: clients[0].echoes, failures: 1 }];

    await runner({ LOAD_REQUESTS: '10000', LOAD_CONCURRENCY: '1', LOAD_CONNECTIONS: '1', LOAD_MAX_SECONDS: '2' }).run();

    expect(output.lines.filter((line) => line.startsWith('progress:'))).toEqual(['progress: 100/10000 sent, 100 ok, 0 errors, 100 req/s']);
  });

  it('measures the latency of each request on the clock', async () => {
    answerAfter(new ManualClock().install(), 7);

    expect(await runner({ LOAD_REQUESTS: '20', LOAD_CONCURRENCY: '1', LOAD_CONNECTIONS: '1' }).run()).toBe(0);

    expect(output.lines).toContain('latency ms: p50 7.0, p90 7.0, p99 7.0, max 7.0');
  });

  it('does not print progress for a run shorter than a second', async () => {
    answerAfter(new ManualClock().install(), 1);

    expect(await runner({ LOAD_REQUESTS: '999', LOAD_CONCURRENCY: '1', LOAD_CONNECTIONS: '1' }).run()).toBe(0);

    expect(output.lines.filter((line) => line.startsWith('progress:'))).toEqual([]);
    expect(summary()).toBe('summary: sent 999, ok 999, errors 0, duration 0.999 s, 1000 req/s');
  });

  it('on shutdown stops issuing and lets the requests in flight finish', async () => {
    const release = deferred();
    const allInFlight = deferred();
    let inFlight = 0;
    clients[0].echo = async ({ text }) => {
      if (++inFlight === 4) {
        allInFlight.resolve();
      }
      await release.promise;
      inFlight -= 1;
      return echoReply(text);
    };
    const load = runner({ LOAD_REQUESTS: '1000000', LOAD_CONCURRENCY: '4', LOAD_CONNECTIONS: '1' });

    const run = load.run();
    await allInFlight.promise;
    let shutDown = false;
    const shutdown = load.beforeApplicationShutdown().then(() => (shutDown = true));
    await nextTurn();
    expect(shutDown).toBe(false); // it waits for the 4 requests in flight
    release.resolve();
    await shutdown;

    expect(inFlight).toBe(0);
    expect(await run).toBe(1);
    expect(summary()).toMatch(/^summary: sent 4, ok 4, errors 0,/);
    expect(output.lines).toContain('stopped early: the worker is shutting down; 4 of 1000000 requests sent');
  });

  it('on stop() (a signal) issues no new request, accounts for every one sent, and exits 0', async () => {
    const release = deferred();
    const allInFlight = deferred();
    let calls = 0;
    clients[0].echo = async ({ text }) => {
      calls += 1;
      if (calls <= 3) {
        throw new RpcClientError({ code: 'CONNECTION_LOST', message: 'lost', pattern: 'echo' });
      }
      if (calls === 7) {
        allInFlight.resolve();
      }
      await release.promise;
      return echoReply(text);
    };
    const load = runner({ LOAD_REQUESTS: '1000000', LOAD_CONCURRENCY: '4', LOAD_CONNECTIONS: '1' });

    const run = load.run();
    await allInFlight.promise;
    load.stop('SIGTERM received');
    release.resolve();

    expect(await run).toBe(0);
    expect(summary()).toMatch(/^summary: sent 7, ok 4, errors 3,/);
    expect(output.lines).toContain('errors by code: CONNECTION_LOST 3');
    expect(output.lines).toContain('stopped early: SIGTERM received; 7 of 1000000 requests sent');
  });

  it('exits 1 after a stop() when a reply was wrong', async () => {
    clients[0].echoText = (text) => text.toUpperCase();
    const load = runner({ LOAD_REQUESTS: '1000000', LOAD_CONCURRENCY: '1', LOAD_CONNECTIONS: '1' });
    const echo = clients[0].echo.bind(clients[0]);
    clients[0].echo = (request) => {
      load.stop('SIGINT received');
      return echo(request);
    };

    expect(await load.run()).toBe(1);
    expect(summary()).toMatch(/^summary: sent 1, ok 0, errors 1,/);
  });

  it('ends with how many calls each replica served over all connections, named by its hello instance', async () => {
    const replicasOf = (client: FakeEchoClient) => () => [
      { address: '10.0.0.10', calls: client.echoes, failures: 0 },
      { address: '10.0.0.9', calls: 7, failures: 2 },
    ];
    const createClient = () => {
      const client = new FakeEchoClient();
      client.replicas = replicasOf(client);
      clients.push(client);
      return client.asEchoClient();
    };
    clients[0].replicas = replicasOf(clients[0]);
    clients[0].instanceOf = (replica) => (replica === '10.0.0.9' ? 'echo-server-2' : 'echo-server-1');
    const load = new LoadRunner(
      clients[0].asEchoClient(),
      output,
      workerEnvironment({ LOAD_REQUESTS: '100', LOAD_CONCURRENCY: '4', LOAD_CONNECTIONS: '2', WORKER_NAME: 'w' }),
      createClient,
    );

    expect(await load.run()).toBe(0);

    expect(output.lines.slice(-2)).toEqual([
      'replica echo-server-2 at 10.0.0.9: 14 calls, 4 failed',
      'replica echo-server-1 at 10.0.0.10: 100 calls, 0 failed',
    ]);
    // One hello to each replica, after the counts were taken, through the first client that has it.
    expect(clients[0].helloReplicas).toEqual(['10.0.0.10', '10.0.0.9']);
    expect(clients[1].helloReplicas).toEqual([]);
    expect(clients[0].calls.filter((call) => call.pattern === 'hello').map((call) => call.payload)).toEqual([
      { client: 'w' },
      { client: 'w' },
    ]);
  });

  it('names a replica that does not answer its hello as such', async () => {
    clients[0].replicas = () => [{ address: '10.0.0.1', calls: 10, failures: 10 }];
    clients[0].hello = () => Promise.reject(new RpcClientError({ code: 'CONNECTION_FAILED', message: 'down', pattern: 'hello' }));

    await runner({ LOAD_REQUESTS: '10', LOAD_CONNECTIONS: '1' }).run();

    expect(output.lines.at(-1)).toBe('replica (no hello reply) at 10.0.0.1: 10 calls, 10 failed');
  });

  it('reports a failure to connect instead of sending', async () => {
    const load = runner({ LOAD_CONNECTIONS: '2' });
    clients[0].connect = () =>
      Promise.reject(new RpcClientError({ code: 'CONNECTION_FAILED', message: 'ECONNREFUSED', pattern: 'connect' }));

    expect(await load.run()).toBe(1);
    expect(clients[0].echoes).toBe(0);
    expect(output.lines).toContain('error CONNECTION_FAILED: ECONNREFUSED');
  });
});
