import type { StartedEchoServerContainer } from '@echo-pair/testcontainers';
import { getContainerRuntimeClient } from 'testcontainers';
import { withTimeout } from './support/bounded';
import { Cleanup } from './support/cleanup';
import { echoServerContainer, serverClient } from './support/echo-containers';

const SLEEP_MS = 2_000;
/** `docker stop`'s grace before SIGKILL: well above the sleep, so that only a drain that hangs reaches it. */
const STOP_GRACE_MS = 15_000;

/**
 * `docker stop` sends SIGTERM to the image's CMD (exec form, so node itself, here
 * PID 1 without an init): the server drains, so a request in flight still gets its reply.
 */
describe('docker stop on the echo-server container with a request in flight', () => {
  const cleanup = new Cleanup();
  let server: StartedEchoServerContainer;

  beforeAll(async () => {
    server = await echoServerContainer().withEnvironment({ LOG_LEVEL: 'log' }).start();
    const id = server.getId();
    // Stopped by the test without removal (to read its exit code); removed here in any case.
    cleanup.add(`container ${id.slice(0, 12)}`, async () =>
      (await getContainerRuntimeClient()).container.dockerode.getContainer(id).remove({ force: true }),
    );
  });

  afterAll(() => cleanup.run());

  it('lets the request reply, then exits 0', async () => {
    const client = serverClient(cleanup, server, { timeoutMs: STOP_GRACE_MS });
    const sleep = client.command({ name: 'sleep', args: [String(SLEEP_MS)] });
    sleep.catch(() => undefined); // awaited below
    // Frames of one connection are read in order: once the echo replied, the sleep is in flight.
    await client.echo({ text: 'after the sleep was sent' });

    const stopped = withTimeout(server.stop({ timeout: STOP_GRACE_MS, remove: false }), STOP_GRACE_MS + 30_000, 'docker stop');

    await expect(sleep).resolves.toMatchObject({ output: `slept ${SLEEP_MS} ms` });
    await stopped;
    const { State } = await (await getContainerRuntimeClient()).container.getById(server.getId()).inspect();
    const logs = (
      await (await getContainerRuntimeClient()).container.getById(server.getId()).logs({ stdout: true, stderr: true })
    ).toString();
    expect({ exitCode: State.ExitCode, oomKilled: State.OOMKilled }).toEqual({ exitCode: 0, oomKilled: false });
    expect(logs).toMatch(/draining: no new connections; 1 message\(s\) in flight on 1 connection\(s\)/);
    expect(logs).toMatch(/exiting with code 0/);
  });
});
