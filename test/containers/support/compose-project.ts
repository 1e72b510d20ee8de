import { DockerComposeEnvironment, getContainerRuntimeClient, Wait, type StartedTestContainer } from 'testcontainers';
import { REPO_ROOT } from '../../support/run-process';
import type { Cleanup } from './cleanup';

const COMPOSE_FILE = 'docker-compose.yml';

export interface ComposeProjectOptions {
  projectName: string;
  /** Variables the compose file reads (ports, image tags…). */
  environment: Record<string, string>;
  /** Let compose build the images (else they must exist under the given tags). */
  build?: boolean;
  /** Services to start; all when omitted. */
  services?: string[];
  startupTimeoutMs: number;
}

/**
 * Brings up the repository's docker-compose.yml as project `projectName` and waits for the
 * server's healthcheck; returns the server container. `down` is registered before `up`, so the
 * project goes also when `up` fails (a build error, an unhealthy server).
 */
export async function startComposeProject(
  cleanup: Cleanup,
  { projectName, environment, build = false, services, startupTimeoutMs }: ComposeProjectOptions,
): Promise<StartedTestContainer> {
  const { compose } = await getContainerRuntimeClient();
  cleanup.add(`compose project ${projectName}`, () =>
    compose.down({ filePath: REPO_ROOT, files: COMPOSE_FILE, projectName, environment }, { removeVolumes: true, timeout: 10_000 }),
  );
  let project = new DockerComposeEnvironment(REPO_ROOT, COMPOSE_FILE)
    .withProjectName(projectName)
    .withEnvironment(environment)
    .withWaitStrategy('echo-server-1', Wait.forHealthCheck())
    .withStartupTimeout(startupTimeoutMs);
  if (services === undefined || services.includes('client-worker')) {
    // The worker runs its demo and exits, often before testcontainers' default wait (a check of its
    // published metrics port, by `exec` inside it) would run: that fails with "container is not
    // running". Nothing to wait for, then: the suites wait for its exit and check its output.
    project = project.withWaitStrategy('client-worker-1', Wait.forAll([]));
  }
  if (build) {
    project = project.withBuild();
  }
  const started = await project.up(services);
  return started.getContainer('echo-server-1');
}
