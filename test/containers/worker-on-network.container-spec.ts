import type { StartedTestContainer } from 'testcontainers';
import { Cleanup } from './support/cleanup';
import { waitForExit } from './support/container-exit';
import { expectPassingDemo } from '../support/demo-transcript';
import { clientWorkerContainer, echoServerContainer, startContainer, startNetwork } from './support/echo-containers';
import { SERVER_PORT } from './support/test-run';

const SERVER_NAME = 'echo-server-on-test-network';

/** Both images on a network of their own: the worker finds the server by its network alias. */
describe('client-worker container and echo-server container on a fresh network', () => {
  const cleanup = new Cleanup();
  let server: StartedTestContainer;
  let worker: StartedTestContainer;

  beforeAll(async () => {
    const network = await startNetwork(cleanup);
    // The worker's way in is the network, by the alias that the image's ECHO_SERVER_HOST names
    // by default (the ports published on the host's loopback are not on its path).
    server = await startContainer(
      cleanup,
      echoServerContainer().withNetwork(network).withNetworkAliases('echo-server').withServerName(SERVER_NAME),
    );
    worker = await startContainer(cleanup, clientWorkerContainer().withNetwork(network));
  });

  afterAll(() => cleanup.run());

  it('connects at once to the server found by alias, runs the demo and exits 0', async () => {
    const result = await waitForExit(worker.getId(), 120_000);

    expectPassingDemo(result);
    expect(result.stdout).toMatch(
      new RegExp(`^connected to ${SERVER_NAME} \\S+ \\(instance ${server.getHostname()}\\) at echo-server:${SERVER_PORT}$`, 'm'),
    );
  });
});
