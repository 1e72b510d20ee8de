import type { ContainerRuntimeClient } from 'testcontainers';
import { delay } from './bounded';
import type { Cleanup } from './cleanup';
import { dockerCli } from './docker-cli';

type Docker = ContainerRuntimeClient['container']['dockerode'];

const CLI_MS = 60_000;
const POLL_MS = 500;
/** Within the cleanup's bound of a step (60 s): the servers drain in well under their 15 s grace period. */
const STACK_REMOVAL_MS = 50_000;

/** One task of a swarm service, as the manager reports it. */
export interface SwarmTask {
  id: string;
  slot: number;
  state: string;
  desiredState: string;
  /** Its address on the stack's network, without the prefix length. */
  address?: string;
  containerId?: string;
  exitCode?: number;
  /** When it entered its current state (the manager's clock, which is this machine's). */
  since: number;
}

/** The fields of the engine's task objects that `SwarmTask` reads. */
interface TaskObject {
  ID: string;
  Slot?: number;
  DesiredState: string;
  Status: { Timestamp: string; State: string; ContainerStatus?: { ContainerID?: string; ExitCode?: number } };
  NetworksAttachments?: Array<{ Network: { Spec: { Name: string } }; Addresses?: string[] }>;
}

/** The bridge a swarm's containers reach the host's network by. */
const GATEWAY_BRIDGE = 'docker_gwbridge';

/**
 * Makes sure the engine is a swarm manager: initialises a single-node swarm, listening and
 * advertising on loopback only, when the engine is in no swarm, and registers `docker swarm leave
 * --force` with `cleanup` for that case alone; uses the swarm as it is when the engine is already
 * a manager. Returns whether it created the swarm.
 */
export async function useSwarm(cleanup: Cleanup, docker: Docker): Promise<boolean> {
  const { Swarm } = (await docker.info()) as { Swarm: { LocalNodeState: string; ControlAvailable: boolean } };
  if (Swarm.LocalNodeState === 'active') {
    if (!Swarm.ControlAvailable) {
      throw new Error('this engine is a swarm worker, not a manager: it cannot deploy a stack');
    }
    return false;
  }
  if (Swarm.LocalNodeState !== 'inactive') {
    throw new Error(`this engine's swarm is ${Swarm.LocalNodeState}: neither in a swarm nor out of one`);
  }
  // The engine makes this bridge at the init and keeps it after the leave: removed too, unless it was there before.
  const hadGatewayBridge = (await docker.listNetworks({ filters: { name: [GATEWAY_BRIDGE] } })).some(
    (network) => network.Name === GATEWAY_BRIDGE,
  );
  // Registered before the init, so that a half-done init is undone too; it leaves only a swarm that is there.
  cleanup.add('the swarm this suite initialised', async () => {
    const { Swarm: now } = (await docker.info()) as { Swarm: { LocalNodeState: string } };
    if (now.LocalNodeState !== 'inactive') {
      await dockerCli(['swarm', 'leave', '--force'], { timeoutMs: CLI_MS });
    }
    if (!hadGatewayBridge) {
      await docker
        .getNetwork(GATEWAY_BRIDGE)
        .remove()
        .catch(() => undefined); // never made (the init failed early)
    }
  });
  await dockerCli(['swarm', 'init', '--advertise-addr', '127.0.0.1', '--listen-addr', '127.0.0.1:2377'], { timeoutMs: CLI_MS });
  return true;
}

/**
 * `docker stack deploy` of `composeFile` as `stackName`, with `environment` for the file's
 * variables and the images as tagged here (`--resolve-image never`: no registry is asked). Its
 * removal is registered with `cleanup` first, and waits until its containers and network are gone.
 */
export async function deployStack(
  cleanup: Cleanup,
  docker: Docker,
  { stackName, composeFile, environment }: { stackName: string; composeFile: string; environment: Record<string, string> },
): Promise<void> {
  cleanup.add(`stack ${stackName}`, () => removeStack(docker, stackName));
  await dockerCli(['stack', 'deploy', '--resolve-image', 'never', '--compose-file', composeFile, stackName], {
    env: environment,
    timeoutMs: CLI_MS,
  });
}

async function removeStack(docker: Docker, stackName: string): Promise<void> {
  const { Swarm } = (await docker.info()) as { Swarm: { LocalNodeState: string; ControlAvailable: boolean } };
  if (Swarm.LocalNodeState !== 'active' || !Swarm.ControlAvailable) {
    return; // no swarm (its init failed, or it is gone): no stack either
  }
  const label = `com.docker.stack.namespace=${stackName}`;
  const services = await docker.listServices({ filters: { label: [label] } });
  const networks = await docker.listNetworks({ filters: { label: [label] } });
  if (services.length + networks.length > 0) {
    await dockerCli(['stack', 'rm', stackName], { timeoutMs: CLI_MS });
  }
  const deadline = Date.now() + STACK_REMOVAL_MS;
  for (;;) {
    const containers = await docker.listContainers({ all: true, filters: { label: [label] } });
    const networks = await docker.listNetworks({ filters: { label: [label] } });
    if (containers.length + networks.length === 0) {
      return;
    }
    if (Date.now() >= deadline) {
      const left = [...containers.map((container) => container.Names.join(',')), ...networks.map((network) => network.Name)];
      throw new Error(`stack ${stackName} still has ${left.join(' ')} after ${STACK_REMOVAL_MS} ms`);
    }
    await delay(POLL_MS);
  }
}

/** Every task of `service` (the manager keeps a few ended ones per slot), in slot order. */
export async function serviceTasks(docker: Docker, service: string, network: string): Promise<SwarmTask[]> {
  const tasks = (await docker.listTasks({ filters: { service: [service] } })) as TaskObject[];
  return tasks
    .map((task) => ({
      id: task.ID,
      slot: task.Slot ?? 0,
      state: task.Status.State,
      desiredState: task.DesiredState,
      address: task.NetworksAttachments?.find((attachment) => attachment.Network.Spec.Name === network)?.Addresses?.[0]?.split('/')[0],
      containerId: task.Status.ContainerStatus?.ContainerID,
      exitCode: task.Status.ContainerStatus?.ExitCode,
      since: Date.parse(task.Status.Timestamp),
    }))
    .sort((a, b) => a.slot - b.slot || a.since - b.since);
}

/** The tasks of `service` that run now and are meant to (running means healthy: in the name's DNS answer). */
export async function runningTasks(docker: Docker, service: string, network: string): Promise<SwarmTask[]> {
  return (await serviceTasks(docker, service, network)).filter((task) => task.state === 'running' && task.desiredState === 'running');
}

/** Polls the running tasks of `service` until `accept` returns something, at most `timeoutMs`. */
export async function waitForTasks<T>(
  docker: Docker,
  { service, network, what, timeoutMs }: { service: string; network: string; what: string; timeoutMs: number },
  accept: (running: SwarmTask[]) => T | undefined,
): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const running = await runningTasks(docker, service, network);
    const accepted = accept(running);
    if (accepted !== undefined) {
      return accepted;
    }
    if (Date.now() >= deadline) {
      const all = await serviceTasks(docker, service, network);
      const states = all.map((task) => `${task.slot}:${task.id.slice(0, 12)} ${task.state}/${task.desiredState} ${task.address ?? '-'}`);
      throw new Error(`${what}: not within ${timeoutMs} ms; the tasks of ${service}: ${states.join(', ')}`);
    }
    await delay(POLL_MS);
  }
}

/** States of a service's update that mean it will not complete as asked. */
const FAILED_UPDATE_STATES = ['paused', 'rollback_started', 'rollback_paused', 'rollback_completed'];

/**
 * Waits until the update of `service` has completed (every task replaced, and the update's monitor
 * period over without a failure); rejects as soon as it pauses or rolls back, or after `timeoutMs`.
 */
export async function waitForUpdate(docker: Docker, service: string, timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const { UpdateStatus } = (await docker.getService(service).inspect()) as { UpdateStatus?: { State?: string; Message?: string } };
    const state = UpdateStatus?.State;
    if (state === 'completed') {
      return;
    }
    if (state !== undefined && FAILED_UPDATE_STATES.includes(state)) {
      throw new Error(`the update of ${service} did not complete: ${state} (${UpdateStatus?.Message ?? 'no message'})`);
    }
    if (Date.now() >= deadline) {
      throw new Error(`the update of ${service} was still ${state ?? 'not started'} after ${timeoutMs} ms`);
    }
    await delay(POLL_MS);
  }
}
