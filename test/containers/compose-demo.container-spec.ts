import { getContainerRuntimeClient, type StartedTestContainer } from 'testcontainers';
import { Cleanup } from './support/cleanup';
import { startComposeProject } from './support/compose-project';
import { waitForExit } from './support/container-exit';
import { expectPassingDemo } from '../support/demo-transcript';
import { createClient, LOOPBACK } from './support/echo-containers';
import { SERVER_PORT, uniqueName } from './support/test-run';

const STARTUP_MS = 180_000;

/** The real docker-compose.yml, built by compose itself, under a project name of this run. */
describe('docker-compose.yml', () => {
  const cleanup = new Cleanup();
  const projectName = uniqueName('compose');
  // A free published port instead of 3000, and image tags of their own, so that the suite
  // disturbs no `docker compose up` of the same checkout.
  const environment = {
    ECHO_PUBLISH_ADDRESS: LOOPBACK,
    ECHO_PUBLISHED_PORT: '0',
    TEXT_PUBLISHED_PORT: '0',
    UDP_PUBLISHED_PORT: '0',
    METRICS_PUBLISHED_PORT: '0',
    ECHO_SERVER_IMAGE: 'echo-pair/echo-server:compose-test',
    CLIENT_WORKER_IMAGE: 'echo-pair/client-worker:compose-test',
  };
  let server: StartedTestContainer;

  beforeAll(async () => {
    server = await startComposeProject(cleanup, { projectName, environment, build: true, startupTimeoutMs: STARTUP_MS });
  });

  afterAll(() => cleanup.run());

  it('builds and starts the server, healthy by its own protocol-level healthcheck', async () => {
    const { State, Config } = await (await getContainerRuntimeClient()).container.getById(server.getId()).inspect();

    expect(Config.Image).toBe(environment.ECHO_SERVER_IMAGE);
    expect(State.Health?.Status).toBe('healthy');
    expect(State.Health?.Log.at(-1)).toMatchObject({
      ExitCode: 0,
      Output: expect.stringMatching(
        new RegExp(`^healthy: 127\\.0\\.0\\.1:${SERVER_PORT} echo-server \\S+ \\(\\S+\\) answered hello`),
      ) as string,
    });
    const hello = await createClient(cleanup, server.getMappedPort(SERVER_PORT)).hello({ client: 'compose-spec' });
    expect(hello.server).toBe('echo-server');
  });

  it('runs the worker once the server is healthy, and its demo exits 0', async () => {
    const docker = (await getContainerRuntimeClient()).container.dockerode;
    const workers = await docker.listContainers({
      all: true,
      filters: { label: [`com.docker.compose.project=${projectName}`, 'com.docker.compose.service=client-worker'] },
    });
    expect(workers).toHaveLength(1);

    const result = await waitForExit(workers[0].Id, 120_000);

    expectPassingDemo(result);
    expect(result.stdout).toMatch(new RegExp(`^connected to echo-server \\S+ \\(instance \\S+\\) at echo-server:${SERVER_PORT}$`, 'm'));
  });
});
