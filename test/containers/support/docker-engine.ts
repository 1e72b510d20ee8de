import { describeError } from '@echo-pair/common';
import { getContainerRuntimeClient, type ContainerRuntimeClient } from 'testcontainers';
import { withTimeout } from './bounded';

const ENGINE_CHECK_MS = 30_000;

/** Settings that keep testcontainers from pulling images, each only when unset. */
export function configureTestcontainers(): void {
  // Ryuk, testcontainers' reaper, is an image from a registry: the suites stop what they start themselves.
  process.env.TESTCONTAINERS_RYUK_DISABLED ??= 'true';
  // Inside a container (/.dockerenv) testcontainers looks for the engine's host by running
  // alpine:3.14, a pull. The suites reach published ports on 127.0.0.1 anyway.
  process.env.TESTCONTAINERS_HOST_OVERRIDE ??= 'localhost';
}

/** The engine's client, or the one line that says it cannot be reached and how to provision one. */
export async function connectToEngine(): Promise<{ client: ContainerRuntimeClient } | { unavailable: string }> {
  try {
    const client = await withTimeout(getContainerRuntimeClient(), ENGINE_CHECK_MS, 'finding a Docker engine');
    await withTimeout(client.container.dockerode.ping(), ENGINE_CHECK_MS, 'pinging the Docker engine');
    return { client };
  } catch (error) {
    return {
      unavailable:
        `No Docker engine is reachable (${describeError(error)}): the container suites need Docker with compose v2. ` +
        `Provision it with "bash scripts/provision-docker.sh" (as root), or set DOCKER_HOST to a running engine.`,
    };
  }
}

/** An error that Jest prints as its message alone, without a stack trace. */
export function oneLineError(message: string): Error {
  const error = new Error(message);
  error.stack = message;
  return error;
}
