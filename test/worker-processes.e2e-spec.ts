import { createServer } from 'node:net';
import { once } from 'node:events';
import type { RunningEchoServer } from '@echo-pair/echo-server';
import { compiled, expectExitCode, runNode } from './support/run-process';
import { startTestServer } from './support/test-server';

const WORKER = 'services/client-worker/dist/main.js';

async function freePort(): Promise<number> {
  const probe = createServer().listen(0, '127.0.0.1');
  await once(probe, 'listening');
  const { port } = probe.address() as { port: number };
  probe.close();
  await once(probe, 'close');
  return port;
}

/** The compiled worker as a real process against a live server on 127.0.0.1. */
describe('client-worker process', () => {
  let server: RunningEchoServer;
  let workerEnv: Record<string, string>;

  beforeAll(async () => {
    server = await startTestServer();
    workerEnv = { ECHO_SERVER_HOST: '127.0.0.1', ECHO_SERVER_PORT: String(server.port), WORKER_NAME: 'e2e-worker' };
  });

  afterAll(async () => {
    await server?.close();
  });

  it('runs the demo session and exits 0', async () => {
    const result = await runNode([compiled(WORKER), 'demo'], { env: workerEnv, timeoutMs: 60_000 });
    expectExitCode(result, 0);
    expect(result.stdout).toContain('你好');
    expect(result.stdout).toMatch(/VALIDATION_FAILED/);
    expect(result.stdout).toMatch(/UNKNOWN_COMMAND/);
    expect(result.stdout).not.toContain('✘');
  });

  it('serves piped lines in repl mode until quit', async () => {
    const input = 'hello there\n/upper hi\n/reverse "abc 你好"\n/rm -rf /\nstill here\nquit\nnever sent\n';
    const result = await runNode([compiled(WORKER), 'repl'], { env: workerEnv, input, timeoutMs: 30_000 });
    expectExitCode(result, 0);
    const lines = result.stdout;
    expect(lines).toContain('hello there');
    expect(lines).toContain('HI');
    expect(lines).toContain('好你 cba');
    expect(lines).toMatch(/error UNKNOWN_COMMAND/);
    expect(lines).toContain('still here');
    expect(lines).not.toContain('never sent');
  });

  it('runs a bounded load and reports its latency percentiles', async () => {
    const env = { ...workerEnv, LOAD_REQUESTS: '2000', LOAD_CONCURRENCY: '32', LOAD_CONNECTIONS: '4', LOAD_MAX_SECONDS: '30' };
    const result = await runNode([compiled(WORKER), 'load'], { env, timeoutMs: 60_000 });
    expectExitCode(result, 0);
    expect(result.stdout).toMatch(/p50/);
    expect(result.stdout).toMatch(/p99/);
    expect(result.stdout).toMatch(/2000/);
  });

  it('waits for a server that starts late, then completes the demo', async () => {
    const port = await freePort();
    const env = {
      ...workerEnv,
      ECHO_SERVER_PORT: String(port),
      CONNECT_ATTEMPTS: '40',
      CONNECT_BACKOFF_MS: '100',
      CONNECT_BACKOFF_MAX_MS: '250',
    };
    const worker = runNode([compiled(WORKER), 'demo'], { env, timeoutMs: 60_000 });
    await new Promise((resolve) => setTimeout(resolve, 1_000));
    const lateServer = await startTestServer({ ECHO_PORT: String(port) });
    try {
      const result = await worker;
      expectExitCode(result, 0);
      expect(result.stdout + result.stderr).toMatch(/not ready/);
    } finally {
      await lateServer.close();
    }
  });

  it('gives up with a clear message when no server ever answers', async () => {
    const port = await freePort();
    const env = {
      ...workerEnv,
      ECHO_SERVER_PORT: String(port),
      CONNECT_ATTEMPTS: '2',
      CONNECT_BACKOFF_MS: '50',
      CONNECT_BACKOFF_MAX_MS: '50',
    };
    const result = await runNode([compiled(WORKER), 'demo'], { env, timeoutMs: 30_000 });
    expectExitCode(result, 1);
    expect(result.stdout + result.stderr).toMatch(new RegExp(`127\\.0\\.0\\.1:${port}`));
  });

  it('rejects an unknown mode and invalid configuration with exit code 2', async () => {
    const badMode = await runNode([compiled(WORKER), 'dance'], { env: workerEnv, timeoutMs: 30_000 });
    expectExitCode(badMode, 2);
    expect(badMode.stdout + badMode.stderr).toMatch(/demo.*repl.*load/s);
    const badPort = await runNode([compiled(WORKER), 'demo'], { env: { ...workerEnv, ECHO_SERVER_PORT: 'ninety' }, timeoutMs: 30_000 });
    expectExitCode(badPort, 2);
    expect(badPort.stdout + badPort.stderr).toContain('ECHO_SERVER_PORT');
  });
});

describe('npm run demo', () => {
  it('runs the server and the demo worker as two processes and exits 0', async () => {
    const result = await runNode([compiled('scripts/run-demo.mjs')], { timeoutMs: 90_000 });
    expectExitCode(result, 0);
    expect(result.stdout).toMatch(/client-worker exited with 0; echo-server stopped/);
    expect(result.stderr).toMatch(/\[echo-server\].*listening on 127\.0\.0\.1:\d+/);
  });
});
