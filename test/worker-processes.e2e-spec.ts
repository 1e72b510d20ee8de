import type { RunningEchoServer } from '@echo-pair/echo-server';
import { expectPassingDemo } from './support/demo-transcript';
import { freePort } from './support/loopback-port';
import { compiled, expectExitCode, runNode, startNode } from './support/run-process';
import { startTestServer } from './support/test-server';

const WORKER = 'services/client-worker/dist/main.js';

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
    expectPassingDemo(result);
  });

  it('serves piped lines in repl mode until quit', async () => {
    const input = 'hello there\n/upper hi\n/reverse "abc 你好"\n/rm -rf /\nstill here\nquit\nnever sent\n';
    const result = await runNode([compiled(WORKER), 'repl'], { env: workerEnv, input, timeoutMs: 30_000 });
    expectExitCode(result, 0);
    const transcript = result.stdout;
    expect(transcript).toMatch(/^< hello there {2}\(echo, 11 bytes, \d+\.\d ms\)$/m);
    expect(transcript).toMatch(/^< HI {2}\(upper, \d+\.\d ms\)$/m);
    expect(transcript).toMatch(/^< 好你 cba {2}\(reverse, \d+\.\d ms\)$/m);
    expect(transcript).toMatch(/^error UNKNOWN_COMMAND: unknown command "rm"/m);
    expect(transcript).toMatch(/^< still here {2}\(echo, 10 bytes, \d+\.\d ms\)$/m);
    expect(transcript).toMatch(/^bye$/m);
    expect(transcript).not.toContain('never sent');
  });

  it('runs a bounded load and reports its latency percentiles', async () => {
    const env = { ...workerEnv, LOAD_REQUESTS: '2000', LOAD_CONCURRENCY: '32', LOAD_CONNECTIONS: '4', LOAD_MAX_SECONDS: '30' };
    const result = await runNode([compiled(WORKER), 'load'], { env, timeoutMs: 60_000 });
    expectExitCode(result, 0);
    expect(result.stdout).toMatch(/^summary: sent 2000, ok 2000, errors 0, duration \d+\.\d{3} s, \d+ req\/s$/m);
    expect(result.stdout).toMatch(/^latency ms: p50 \d+\.\d, p90 \d+\.\d, p99 \d+\.\d, max \d+\.\d$/m);
    expect(result.stdout).not.toMatch(/^(errors by code|stopped early)/m);
  });

  it('waits for a server that starts late, then completes the demo', async () => {
    const port = await freePort();
    const env = {
      ...workerEnv,
      ECHO_SERVER_PORT: String(port),
      CONNECT_ATTEMPTS: '40',
      RECONNECT_BACKOFF_MS: '100',
      RECONNECT_BACKOFF_MAX_MS: '250',
    };
    const worker = startNode([compiled(WORKER), 'demo'], { env, timeoutMs: 60_000 });
    // The worker has tried and failed at least once: only now does the server start.
    await worker.waitForOutput(new RegExp(`^server 127\\.0\\.0\\.1:${port} not ready \\(CONNECTION_FAILED: .*\\), attempt 1/40,`), 30_000);
    const lateServer = await startTestServer({ ECHO_PORT: String(port) });
    try {
      const result = await worker.result;
      expectPassingDemo(result);
      expect(result.stdout).toMatch(new RegExp(`^connected to echo-server .* at 127\\.0\\.0\\.1:${port} after \\d+ attempts$`, 'm'));
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
      RECONNECT_BACKOFF_MS: '50',
      RECONNECT_BACKOFF_MAX_MS: '50',
    };
    const result = await runNode([compiled(WORKER), 'demo'], { env, timeoutMs: 30_000 });
    expectExitCode(result, 1);
    expect(result.stderr).toMatch(new RegExp(`^client-worker: no echo server answered at 127\\.0\\.0\\.1:${port} after 2 attempts`, 'm'));
  });

  it.each<{ label: string; args: string[]; env: Record<string, string>; message: RegExp }>([
    { label: 'an unknown mode', args: ['dance'], env: {}, message: /unknown mode "dance"; valid modes: demo, repl, load/ },
    { label: 'an invalid port', args: ['demo'], env: { ECHO_SERVER_PORT: 'ninety' }, message: /ECHO_SERVER_PORT="ninety"/ },
    {
      label: 'an unreadable TLS file',
      args: ['demo'],
      env: { TLS_CA_FILE: '/nonexistent/ca.crt' },
      message: /^client-worker: Invalid configuration:\n {2}- TLS_CA_FILE="\/nonexistent\/ca\.crt": cannot read it \(ENOENT\)/m,
    },
  ])('rejects $label with exit code 2', async ({ args, env, message }) => {
    const result = await runNode([compiled(WORKER), ...args], { env: { ...workerEnv, ...env }, timeoutMs: 30_000 });
    expectExitCode(result, 2);
    expect(result.stderr).toMatch(message);
  });
});

describe('npm run demo', () => {
  it('runs the server and the demo worker as two processes and exits 0', async () => {
    const result = await runNode([compiled('scripts/run-demo.mjs')], { timeoutMs: 90_000 });
    expectPassingDemo(result);
    expect(result.stdout).toMatch(/client-worker exited with 0; echo-server stopped/);
    expect(result.stderr).toMatch(/\[echo-server\].*listening on 127\.0\.0\.1:\d+/);
  });
});
