// Builds the Dockerfile's two targets once, as the container suites' global setup does
// (test/containers/support/global-setup.ts: BuildKit through the engine's API), then drops the
// images: what stays is Docker's build cache, with the build stage's `npm ci` and `tsc`. .ci/run
// starts it in the background while lint and check-removable run, so that the global setup, which
// builds the images for real, finds their layers cached. A failure costs only that head start:
// the global setup builds on its own and says why it failed.
// Usage: node scripts/warm-image-cache.mjs   (one line: how long it took, or what failed)
import { performance } from 'node:perf_hooks';
import { fileURLToPath } from 'node:url';
import { GenericContainer, getContainerRuntimeClient } from 'testcontainers';

// Ryuk, testcontainers' reaper, is an image from a registry; nothing here is left to reap.
process.env.TESTCONTAINERS_RYUK_DISABLED ??= 'true';
const ROOT = fileURLToPath(new URL('..', import.meta.url));
const TARGETS = ['echo-server', 'client-worker'];
const startedAt = performance.now();

try {
  const docker = (await getContainerRuntimeClient()).container.dockerode;
  for (const target of TARGETS) {
    // A tag of its own, removed at once: the suites' tags are the global setup's alone.
    const tag = `echo-pair/${target}:build-cache`;
    await GenericContainer.fromDockerfile(ROOT).withTarget(target).withBuildkit().build(tag, { deleteOnExit: false });
    await docker.getImage(tag).remove();
  }
  console.log(
    `[warm-image-cache] the images' layers are in Docker's build cache (${((performance.now() - startedAt) / 1000).toFixed(1)} s)`,
  );
} catch (error) {
  console.log(
    `[warm-image-cache] not warmed (${error instanceof Error ? error.message : String(error)}); the global setup builds the images`,
  );
}
