import { RpcClientError } from '@echo-pair/common';
import { CapturedOutput } from '../testing/captured-output';
import { FakeEchoClient } from '../testing/fake-echo-client';
import { workerConfig } from '../testing/worker-config';
import { LoadRunner } from './load-runner.service';

describe('LoadRunner', () => {
  let clients: FakeEchoClient[];
  let output: CapturedOutput;

  beforeEach(() => {
    clients = [new FakeEchoClient()];
    output = new CapturedOutput();
  });

  function runner(environment: Record<string, string>): LoadRunner {
    const createClient = () => {
      const client = new FakeEchoClient();
      clients.push(client);
      return client.asEchoClient();
    };
    return new LoadRunner(clients[0].asEchoClient(), output, workerConfig(environment), createClient);
  }

  const summary = (): string => output.lines.find((line) => line.startsWith('summary:')) ?? '';

  it('sends every request over all connections and succeeds when every reply matches', async () => {
    const code = await runner({ LOAD_REQUESTS: '200', LOAD_CONCURRENCY: '8', LOAD_CONNECTIONS: '3', LOAD_TEXT_LENGTH: '32' }).run();

    expect(code).toBe(0);
    expect(clients).toHaveLength(3);
    expect(clients.map((client) => client.echoes).reduce((a, b) => a + b)).toBe(200);
    expect(clients.every((client) => client.echoes > 0)).toBe(true);
    const texts = clients.flatMap((client) => client.calls.map((call) => (call.payload as { text: string }).text));
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
      await new Promise((resolve) => setTimeout(resolve, 1));
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

  it('stops issuing requests once LOAD_MAX_SECONDS have passed', async () => {
    clients[0].echo = async ({ text }) => {
      await new Promise((resolve) => setTimeout(resolve, 20));
      return { text, receivedAt: '', bytes: text.length, codeUnits: text.length, codePoints: text.length };
    };
    const startedAt = Date.now();

    const code = await runner({ LOAD_REQUESTS: '1000000', LOAD_CONCURRENCY: '2', LOAD_CONNECTIONS: '1', LOAD_MAX_SECONDS: '1' }).run();

    expect(Date.now() - startedAt).toBeLessThan(2_000);
    expect(code).toBe(1);
    expect(output.lines).toContainEqual(
      expect.stringMatching(/^stopped early: the time limit of 1 s was reached; \d+ of 1000000 requests sent$/),
    );
    expect(output.lines).toContainEqual(expect.stringMatching(/^summary: sent (\d+), ok \1, errors 0,/));
  });

  it('prints progress at most once per second', async () => {
    clients[0].echo = async ({ text }) => {
      await new Promise((resolve) => setTimeout(resolve, 5));
      return { text, receivedAt: '', bytes: text.length, codeUnits: text.length, codePoints: text.length };
    };

    await runner({ LOAD_REQUESTS: '1000000', LOAD_CONCURRENCY: '4', LOAD_CONNECTIONS: '1', LOAD_MAX_SECONDS: '2' }).run();

    const progress = output.lines.filter((line) => line.startsWith('progress:'));
    expect(progress.length).toBeGreaterThanOrEqual(1);
    expect(progress.length).toBeLessThanOrEqual(2);
    expect(progress[0]).toMatch(/^progress: \d+\/1000000 sent, \d+ ok, 0 errors, \d+ req\/s$/);
  });

  it('on shutdown stops issuing and lets the requests in flight finish', async () => {
    let inFlight = 0;
    clients[0].echo = async ({ text }) => {
      inFlight += 1;
      await new Promise((resolve) => setTimeout(resolve, 10));
      inFlight -= 1;
      return { text, receivedAt: '', bytes: text.length, codeUnits: text.length, codePoints: text.length };
    };
    const load = runner({ LOAD_REQUESTS: '1000000', LOAD_CONCURRENCY: '4', LOAD_CONNECTIONS: '1' });

    const run = load.run();
    await new Promise((resolve) => setTimeout(resolve, 50));
    await load.beforeApplicationShutdown();

    expect(inFlight).toBe(0);
    expect(await run).toBe(1);
    expect(output.lines).toContainEqual(expect.stringMatching(/^summary: sent (\d+), ok \1, errors 0,/));
    expect(output.lines).toContainEqual(
      expect.stringMatching(/^stopped early: the worker is shutting down; \d+ of 1000000 requests sent$/),
    );
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
