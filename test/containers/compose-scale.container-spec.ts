import { EchoClient } from '@echo-pair/common';
import { getContainerRuntimeClient, type ContainerRuntimeClient } from 'testcontainers';
import { expectExitCode } from '../support/run-process';
import { Cleanup } from './support/cleanup';
import { waitForExit } from './support/container-exit';
import { dockerCli } from './support/docker-cli';
import { LOOPBACK } from './support/echo-containers';
import { parseLoadSummary } from './support/load-worker';
import { parseReplicaReport } from './support/replica-progress';
import { IMAGES, SERVER_PORT, uniqueName } from './support/test-run';

type Docker = ContainerRuntimeClient['container']['dockerode'];

const FILES = ['--file', 'docker-compose.yml', '--file', 'docker-compose.scale.yml'];
const REPLICAS = 3;
/** A few seconds of calls, so that how the first calls went weighs little in the spread. */
const LOAD_REQUESTS = 30_000;
/** Image start-up, then every server's healthcheck (every 5 s) before compose starts the worker. */
const UP_MS = 120_000;
const WORKER_EXIT_MS = 90_000;
const CLI_MS = 30_000;

interface ServerReplica {
  index: number;
  hostname: string;
  address: string;
  health?: string;
}

/**
 * docker-compose.yml with docker-compose.scale.yml, `up --scale echo-server=3`, as a project of
 * this run with the images the global setup built: three server replicas with ephemeral loopback
 * ports (none blocks another), and the worker in load mode spreading its calls over them.
 */
describe('docker-compose.scale.yml: up --scale echo-server=3', () => {
  const cleanup = new Cleanup();
  const projectName = uniqueName('scale');
  const network = `${projectName}_echo-pair`;
  // No *_PUBLISHED_PORT here (compose-demo sets them to 0): the base file's fixed host ports
  // (3000, 3001, 9464) must be replaced by the override itself, or three replicas could not start.
  const environment = {
    ECHO_PUBLISH_ADDRESS: LOOPBACK,
    ECHO_SERVER_IMAGE: IMAGES.echoServer.tag,
    CLIENT_WORKER_IMAGE: IMAGES.clientWorker.tag,
    LOG_LEVEL: 'warn',
    WORKER_MODE: 'load',
    LOAD_REQUESTS: String(LOAD_REQUESTS),
    LOAD_CONCURRENCY: '12',
    LOAD_CONNECTIONS: '3',
    LOAD_TEXT_LENGTH: '16',
    LOAD_MAX_SECONDS: '60',
  };
  const compose = (args: string[], timeoutMs = CLI_MS): Promise<string> =>
    dockerCli(['compose', '--project-name', projectName, ...FILES, ...args], { env: environment, timeoutMs });
  let docker: Docker;

  const containersOf = (service: string) =>
    docker.listContainers({
      all: true,
      filters: { label: [`com.docker.compose.project=${projectName}`, `com.docker.compose.service=${service}`] },
    });

  async function serverReplicas(): Promise<ServerReplica[]> {
    const replicas = await Promise.all(
      (await containersOf('echo-server')).map(async ({ Id }) => {
        const { Config, NetworkSettings, State } = await docker.getContainer(Id).inspect();
        return {
          index: Number(Config.Labels['com.docker.compose.container-number']),
          hostname: Config.Hostname,
          address: NetworkSettings.Networks[network]?.IPAddress ?? '(not on the network)',
          health: State.Health?.Status,
        };
      }),
    );
    return replicas.sort((a, b) => a.index - b.index);
  }

  /** `docker compose port --index <index> echo-server <port>`: where the host reaches that replica's port. */
  async function publishedPort(index: number, port: number): Promise<{ host: string; port: number }> {
    const published = (await compose(['port', '--index', String(index), 'echo-server', String(port)])).trim();
    const match = /^(.+):(\d+)$/.exec(published);
    if (!match) {
      throw new Error(`docker compose port printed "${published}"`);
    }
    return { host: match[1], port: Number(match[2]) };
  }

  beforeAll(async () => {
    docker = (await getContainerRuntimeClient()).container.dockerode;
    cleanup.add(`compose project ${projectName}`, () => compose(['down', '--volumes', '--timeout', '10'], 60_000));
    // Returns once the worker has started, i.e. once every server replica is healthy (depends_on).
    await compose(['up', '--detach', '--no-build', '--scale', `echo-server=${REPLICAS}`], UP_MS);
  });

  afterAll(() => cleanup.run());

  it('runs three healthy server replicas, each published on a loopback port of its own', async () => {
    const replicas = await serverReplicas();

    expect(replicas.map(({ index, health }) => ({ index, health }))).toEqual([
      { index: 1, health: 'healthy' },
      { index: 2, health: 'healthy' },
      { index: 3, health: 'healthy' },
    ]);
    for (const port of [SERVER_PORT, 3001, 9464]) {
      const published = await Promise.all(replicas.map(({ index }) => publishedPort(index, port)));
      expect(published.every(({ host }) => host === LOOPBACK)).toBe(true);
      expect(new Set(published.map(({ port: hostPort }) => hostPort)).size).toBe(REPLICAS);
    }
  });

  it('the worker spreads its calls over all three replicas, each at least half of an even share', async () => {
    const workers = await containersOf('client-worker');
    expect(workers).toHaveLength(1);
    const result = await waitForExit(workers[0].Id, WORKER_EXIT_MS);

    expectExitCode(result, 0);
    const summary = parseLoadSummary(result.stdout);
    expect(summary).toMatchObject({ sent: LOAD_REQUESTS, ok: LOAD_REQUESTS, errors: 0 });
    const served = parseReplicaReport(result.stdout);
    const replicas = await serverReplicas();
    const total = served.reduce((sum, { calls }) => sum + calls, 0);
    console.info(
      `compose --scale echo-server=${REPLICAS}: sent ${summary.sent}, succeeded ${summary.ok}, failed ${summary.errors}; ` +
        `calls per replica ${served.map(({ instance, address, calls, failed }) => `${instance ?? '?'} at ${address} ${calls} (${failed} failed)`).join(', ')}`,
    );

    // One line per replica, named by its own hello, at its address on the project's network.
    expect(served.map(({ instance, address }) => ({ instance, address })).sort((a, b) => a.address.localeCompare(b.address))).toEqual(
      replicas.map(({ hostname, address }) => ({ instance: hostname, address })).sort((a, b) => a.address.localeCompare(b.address)),
    );
    // Every echo, and the worker's hellos (connecting, naming the replicas at the end), went to one of them.
    expect(total).toBeGreaterThanOrEqual(LOAD_REQUESTS);
    expect(served.every(({ failed }) => failed === 0)).toBe(true);
    const unfair = served.filter(({ calls }) => calls < total / REPLICAS / 2);
    expect(unfair).toEqual([]);
  });

  it('reaches one replica from the host: docker compose port --index 2 echo-server 3000', async () => {
    const { host, port } = await publishedPort(2, SERVER_PORT);
    const client = EchoClient.create({ host, port, timeoutMs: 10_000 });
    cleanup.add(`client of ${host}:${port}`, () => client.close());

    const hello = await client.hello({ client: 'compose-scale-spec' });

    const second = (await serverReplicas()).find(({ index }) => index === 2);
    expect(hello.server).toBe('echo-server');
    expect(hello.instance).toBe(second?.hostname);
  });
});
