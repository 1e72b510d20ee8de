import { describeError } from '@echo-pair/common';
import { performance } from 'node:perf_hooks';
import { GenericContainer, type ContainerRuntimeClient } from 'testcontainers';
import { REPO_ROOT } from '../../support/run-process';
import { connectToEngine, configureTestcontainers } from './docker-engine';
import { IMAGES, RUN_LABEL, recordSetupFailure, runId, startRun } from './test-run';

/**
 * The `containers` project's global setup: checks the engine and builds the two
 * images once per run. It never throws (that would abort the other projects too):
 * a failure is recorded, and every container suite then fails with its one line.
 * ECHO_PAIR_REUSE_IMAGES=true keeps images already under the tags: `npm test` sets it for
 * its last step, the abuse suite, whose images the Jest run just before built from the same tree.
 */
export default async function globalSetup(): Promise<void> {
  configureTestcontainers();
  const engine = await connectToEngine();
  if ('unavailable' in engine) {
    recordSetupFailure(engine.unavailable);
    return;
  }
  startRun();
  await reportEarlierLeftovers(engine.client);
  for (const image of Object.values(IMAGES)) {
    const startedAt = performance.now();
    if (process.env[REUSE_IMAGES_VARIABLE] === 'true' && (await imageExists(engine.client, image.tag))) {
      process.stdout.write(`[containers] reusing ${image.tag} (${REUSE_IMAGES_VARIABLE}=true)\n`);
      continue;
    }
    try {
      await buildImage(engine.client, image);
    } catch (error) {
      recordSetupFailure(
        `Building ${image.tag} (Dockerfile target ${image.target}) failed: ${describeError(error)}. ` +
          `DEBUG=testcontainers:build shows the build output; "docker build --target ${image.target} ." too.`,
      );
      return;
    }
    process.stdout.write(`[containers] built ${image.tag} in ${((performance.now() - startedAt) / 1000).toFixed(1)} s\n`);
  }
  // `new EchoServerContainer()` (@echo-pair/testcontainers) then starts this run's build, in
  // the suites of a service too (docs/testcontainers.md); the workers inherit the variable.
  process.env.ECHO_SERVER_IMAGE = IMAGES.echoServer.tag;
}

/** Set to `true`, the images already under IMAGES' tags are used as they are. */
const REUSE_IMAGES_VARIABLE = 'ECHO_PAIR_REUSE_IMAGES';

async function imageExists(client: ContainerRuntimeClient, tag: string): Promise<boolean> {
  return client.container.dockerode
    .getImage(tag)
    .inspect()
    .then(
      () => true,
      () => false,
    );
}

async function buildImage(client: ContainerRuntimeClient, image: { target: string; tag: string }): Promise<void> {
  // testcontainers does not read the build's output: a failed build would leave an earlier
  // image under the tag, and only a missing tag makes `build` reject. So the tag goes first.
  // `force` only untags an image that a container still uses (one left by an interrupted
  // run, say); without it the engine refuses with 409 and no run could build again.
  await client.container.dockerode
    .getImage(image.tag)
    .remove({ force: true })
    .catch((error: { statusCode?: number }) => {
      if (error.statusCode !== 404) {
        throw error;
      }
    });
  // BuildKit: a failed step leaves no container behind, as the classic builder would.
  await GenericContainer.fromDockerfile(REPO_ROOT).withTarget(image.target).withBuildkit().build(image.tag, { deleteOnExit: false });
}

/**
 * Containers of an earlier run that was killed before its teardown (a stopped CI job, say).
 * They are named, not removed: another run on the same engine may still be using its own.
 */
async function reportEarlierLeftovers(client: ContainerRuntimeClient): Promise<void> {
  const leftovers = (await client.container.dockerode.listContainers({ all: true })).filter(
    (container) => container.Labels[RUN_LABEL] !== undefined && container.Labels[RUN_LABEL] !== runId() && container.State !== 'running',
  );
  if (leftovers.length > 0) {
    const ids = leftovers.map((container) => container.Id.slice(0, 12)).join(' ');
    process.stdout.write(`[containers] stopped containers left by earlier, interrupted runs (docker rm ${ids})\n`);
  }
}
