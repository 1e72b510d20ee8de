import { connectToEngine } from './docker-engine';
import { RUN_LABEL, runId, runPrefix, setupFailure } from './test-run';

/**
 * A safety net behind the suites' own `afterAll`: removes, by id, whatever of this
 * run is still there (a suite killed mid-start, say) and says so, since it is a bug.
 */
export default async function globalTeardown(): Promise<void> {
  const engine = setupFailure() === undefined ? await connectToEngine() : undefined;
  if (engine === undefined || !('client' in engine)) {
    return;
  }
  const docker = engine.client.container.dockerode;
  const prefix = runPrefix();
  const containers = (await docker.listContainers({ all: true })).filter(
    (container) => container.Labels[RUN_LABEL] === runId() || container.Labels['com.docker.compose.project']?.startsWith(prefix),
  );
  for (const container of containers) {
    await docker.getContainer(container.Id).remove({ force: true, v: true });
  }
  const networks = (await docker.listNetworks()).filter((network) => network.Name.startsWith(prefix));
  for (const network of networks) {
    await docker.getNetwork(network.Id).remove();
  }
  if (containers.length + networks.length > 0) {
    const names = [...containers.map((container) => container.Names.join(',')), ...networks.map((network) => network.Name)];
    process.stdout.write(`[containers] teardown removed what suites left behind: ${names.join(' ')}\n`);
  }
}
