import { join } from 'node:path';
import { holdPort, type HeldPort } from './support/loopback-port';
import { compiled, expectExitCode, REPO_ROOT, runNode } from './support/run-process';

const SERVER = 'services/echo-server/dist/main.js';
/** Makes the server's name lookups fail at once, so that no DNS query leaves the machine. */
const OFFLINE_DNS = ['--require', join(REPO_ROOT, 'test/support/offline-dns.cjs')];

/** The compiled server as a real process that must not start: it says why and exits, never hangs. */
describe('echo-server process that cannot start', () => {
  let held: HeldPort;

  beforeAll(async () => {
    held = await holdPort();
  });

  afterAll(async () => {
    await held?.release();
  });

  it.each([
    {
      label: 'its port is in use',
      nodeArgs: [],
      env: (heldPort: number) => ({
        ECHO_HOST: '127.0.0.1',
        ECHO_PORT: String(heldPort),
        TEXT_PORT: '0',
        UDP_PORT: '0',
        METRICS_PORT: '0',
      }),
      code: 1,
      message: (heldPort: number) =>
        new RegExp(`^echo-server failed to start: cannot listen: .*EADDRINUSE.*127\\.0\\.0\\.1:${heldPort}`, 'm'),
    },
    {
      label: 'its host is no valid address',
      nodeArgs: OFFLINE_DNS,
      env: () => ({ ECHO_HOST: '256.0.0.1', ECHO_PORT: '0', TEXT_PORT: '0', UDP_PORT: '0', METRICS_PORT: '0' }),
      code: 1,
      message: () => /^echo-server failed to start: cannot listen: .*ENOTFOUND 256\.0\.0\.1/m,
    },
    {
      label: 'its port is not a number',
      nodeArgs: [],
      env: () => ({ ECHO_HOST: '127.0.0.1', ECHO_PORT: 'abc', TEXT_PORT: '0', UDP_PORT: '0', METRICS_PORT: '0' }),
      code: 2,
      message: () => /^echo-server failed to start: Invalid configuration:\n {2}- ECHO_PORT="abc": ECHO_PORT must be an integer number$/m,
    },
  ])('exits $code with a clear message when $label', async ({ nodeArgs, env, code, message }) => {
    const result = await runNode([...nodeArgs, compiled(SERVER)], { env: env(held.port), timeoutMs: 30_000 });

    expectExitCode(result, code);
    expect(result.stderr).toMatch(message(held.port));
    expect(result.stdout).not.toMatch(/listening on/);
  });
});
