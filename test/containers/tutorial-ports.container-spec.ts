import { execFile } from 'node:child_process';
import { join } from 'node:path';
import { promisify } from 'node:util';
import type { StartedEchoServerContainer } from '@echo-pair/testcontainers';
import type { StartedTestContainer } from 'testcontainers';
import { Cleanup } from './support/cleanup';
import { waitForExit } from './support/container-exit';
import { expectPassingDemo } from '../support/demo-transcript';
import { REPO_ROOT } from '../support/run-process';
import { clientWorkerContainer, echoServerContainer, startContainer, startNetwork } from './support/echo-containers';

const run = promisify(execFile);

/** The server container's other doors: UDP for the worker on the network, the text gateway for a host-side tutorial client. */
describe('echo-server container: UDP and the text gateway', () => {
  const cleanup = new Cleanup();
  let server: StartedEchoServerContainer;
  let worker: StartedTestContainer;

  beforeAll(async () => {
    const network = await startNetwork(cleanup);
    server = await startContainer(cleanup, echoServerContainer().withNetwork(network).withNetworkAliases('echo-server'));
    worker = await startContainer(cleanup, clientWorkerContainer().withNetwork(network).withEnvironment({ ECHO_TRANSPORT: 'udp' }));
  });

  afterAll(() => cleanup.run());

  it('runs the worker demo over UDP to the server container on the network, exit 0', async () => {
    const result = await waitForExit(worker.getId(), 120_000);

    expectPassingDemo(result, { overUdp: true });
    expect(result.stdout).toMatch(/^connected to echo-server \S+ \(instance \S+\) at echo-server:3001\/udp$/m);
  });

  it('answers a tutorial-style Python client on the published text port', async () => {
    const script = join(REPO_ROOT, 'test/tutorial-clients/echo_client.py');
    const { stdout } = await run('python3', [script, server.getHost(), String(server.getTextPort())], {
      timeout: 20_000,
      env: { ...process.env, PYTHONIOENCODING: 'utf-8' },
    });

    expect(stdout).toBe("Received: '你好\\n'\nThen: nothing more\n");
  });
});
