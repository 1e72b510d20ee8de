import { spawn } from 'node:child_process';
import { once } from 'node:events';
import type { RunningEchoServer } from '@echo-pair/echo-server';
import { compiled, REPO_ROOT } from './support/run-process';
import { startTestServer } from './support/test-server';

const MAX_RUN_MS = 60_000;

interface WorkerRun {
  code: number | null;
  signal: NodeJS.Signals | null;
  stdout: string;
  stderr: string;
}

/** Runs the compiled worker in load mode; sends `signal` once it has printed its first progress line. */
async function loadWorkerStoppedBy(server: RunningEchoServer, signal: NodeJS.Signals): Promise<WorkerRun> {
  const child = spawn(process.execPath, [compiled('services/client-worker/dist/main.js'), 'load'], {
    cwd: REPO_ROOT,
    env: {
      PATH: process.env.PATH ?? '',
      NO_COLOR: '1',
      ECHO_SERVER_HOST: server.host,
      ECHO_SERVER_PORT: String(server.port),
      LOAD_REQUESTS: '1000000',
      LOAD_CONCURRENCY: '16',
      LOAD_CONNECTIONS: '2',
      LOAD_MAX_SECONDS: '50',
      LOG_LEVEL: 'warn',
    },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let stdout = '';
  let stderr = '';
  let signalled = false;
  child.stdout.setEncoding('utf8').on('data', (chunk: string) => {
    stdout += chunk;
    if (!signalled && stdout.includes('progress:')) {
      signalled = true;
      child.kill(signal);
    }
  });
  child.stderr.setEncoding('utf8').on('data', (chunk: string) => (stderr += chunk));
  const bound = setTimeout(() => child.kill('SIGKILL'), MAX_RUN_MS);
  const [code, exitSignal] = (await once(child, 'close')) as [number | null, NodeJS.Signals | null];
  clearTimeout(bound);
  return { code, signal: exitSignal, stdout, stderr };
}

describe('the load worker on SIGTERM and SIGINT', () => {
  let server: RunningEchoServer;

  beforeAll(async () => {
    server = await startTestServer();
  });

  afterAll(async () => {
    await server?.close();
  });

  it.each(['SIGTERM', 'SIGINT'] as const)(
    'on %s stops issuing, accounts for every call, prints its summary and exits 0',
    async (signal) => {
      const run = await loadWorkerStoppedBy(server, signal);

      const summary = /^summary: sent (\d+), ok (\d+), errors (\d+),/m.exec(run.stdout);
      expect({ code: run.code, signal: run.signal, summary: summary?.[0] }).toEqual({
        code: 0,
        signal: null,
        summary: expect.any(String) as string,
      });
      const [sent, ok, errors] = summary!.slice(1).map(Number);
      console.info(`${signal}: sent ${sent}, ok ${ok}, errors ${errors}`);
      expect(ok + errors).toBe(sent);
      expect(errors).toBe(0);
      expect(run.stdout).toContain(`stopped early: ${signal} received; ${sent} of 1000000 requests sent`);
      expect(run.stderr).toContain(`${signal} received: stopping`);
    },
  );
});
