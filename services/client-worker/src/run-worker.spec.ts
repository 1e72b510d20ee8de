import { createServer } from 'node:net';
import { WorkerEnvironment } from './config/worker-environment';
import { runWorker } from './run-worker';
import { MemoryWritable } from './testing/memory-writable';

/**
 * A loopback port that nothing listens on. test/support/loopback-port.ts has the same
 * for the e2e suites; a workspace's unit specs do not reach into the repository's test/.
 */
async function closedPort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as { port: number };
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return port;
}

/** Every variable the worker reads (all have defaults, so all are own properties). */
const WORKER_VARIABLES = Object.keys(new WorkerEnvironment());

describe('runWorker', () => {
  let savedEnvironment: NodeJS.ProcessEnv;
  let output: MemoryWritable;
  let errorOutput: MemoryWritable;

  // runWorker reads process.env: none of the developer's settings (ECHO_SERVER_HOST, CONNECT_*,
  // LOAD_*, WORKER_MODE, LOG_*) may leak in, and the server can only ever be 127.0.0.1.
  beforeEach(() => {
    output = new MemoryWritable();
    errorOutput = new MemoryWritable();
    savedEnvironment = process.env;
    const isolated = { ...savedEnvironment };
    WORKER_VARIABLES.forEach((name) => delete isolated[name]);
    process.env = { ...isolated, ECHO_SERVER_HOST: '127.0.0.1', LOG_LEVEL: 'error' };
  });

  afterEach(() => {
    process.env = savedEnvironment;
  });

  it('knows the variables it isolates', () => {
    expect(WORKER_VARIABLES).toEqual(
      expect.arrayContaining([
        'ECHO_SERVER_HOST',
        'ECHO_SERVER_PORT',
        'WORKER_MODE',
        'CONNECT_ATTEMPTS',
        'LOAD_REQUESTS',
        'LOG_FORMAT',
        'LOG_LEVEL',
      ]),
    );
  });

  it('rejects an unknown mode with exit code 2, naming the valid ones', async () => {
    expect(await runWorker(['serve'], { output, errorOutput })).toBe(2);
    expect(errorOutput.text()).toBe('client-worker: unknown mode "serve"; valid modes: demo, repl, load\n');
    expect(output.text()).toBe('');
  });

  it('rejects arguments after the mode with exit code 2', async () => {
    expect(await runWorker(['load', '100'], { output, errorOutput })).toBe(2);
    expect(errorOutput.text()).toMatch(/unexpected arguments after the mode: 100; usage: client-worker \[demo\|repl\|load\]/);
  });

  it('reports bad configuration in one message with exit code 2', async () => {
    process.env.ECHO_SERVER_PORT = '70000';
    process.env.WORKER_MODE = 'serve';

    expect(await runWorker([], { output, errorOutput })).toBe(2);
    expect(errorOutput.lines()).toEqual([
      'client-worker: Invalid configuration:',
      expect.stringMatching(/^ {2}- ECHO_SERVER_PORT=70000: .*65535/),
      expect.stringMatching(/^ {2}- WORKER_MODE="serve": .*demo, repl, load/),
    ]);
  });

  it('gives up with exit code 1 when no server answers, and closes the context', async () => {
    Object.assign(process.env, {
      ECHO_SERVER_PORT: String(await closedPort()),
      CONNECT_ATTEMPTS: '2',
      RECONNECT_BACKOFF_MS: '1',
      RECONNECT_BACKOFF_MAX_MS: '1',
    });
    const signalListeners = process.listenerCount('SIGTERM');

    expect(await runWorker(['load'], { output, errorOutput })).toBe(1);
    expect(output.lines()).toEqual([
      expect.stringMatching(/not ready \(CONNECTION_FAILED: .*ECONNREFUSED.*\), attempt 1\/2, retrying in 1 ms$/),
      expect.stringMatching(/not ready \(CONNECTION_FAILED: .*ECONNREFUSED.*\), attempt 2\/2, giving up$/),
    ]);
    expect(errorOutput.text()).toMatch(/^client-worker: no echo server answered at 127\.0\.0\.1:\d+ after 2 attempts/);
    expect(process.listenerCount('SIGTERM')).toBe(signalListeners);
  });
});
