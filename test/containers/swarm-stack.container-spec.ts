import { getContainerRuntimeClient, type ContainerRuntimeClient, type StartedTestContainer } from 'testcontainers';
import { expectExitCode } from '../support/run-process';
import { Cleanup } from './support/cleanup';
import { waitForExit } from './support/container-exit';
import { dockerCli } from './support/docker-cli';
import { clientWorkerContainer, startContainer } from './support/echo-containers';
import { formatErrorsByCode, parseLoadSummary } from './support/load-worker';
import {
  belowFairShare,
  formatDeltas,
  formatProgressLine,
  parseReplicaReport,
  replicaDeltas,
  ReplicaProgress,
  type ReplicaProgressLine,
} from './support/replica-progress';
import { deployStack, runningTasks, serviceTasks, useSwarm, waitForTasks, waitForUpdate, type SwarmTask } from './support/swarm-stack';
import { IMAGES, uniqueName } from './support/test-run';

type Docker = ContainerRuntimeClient['container']['dockerode'];

const STACK_FILE = 'deploy/swarm/stack.yml';
const REPLICAS = 3;
const SCALED_REPLICAS = 5;
const LOAD_CONCURRENCY = 8;
/**
 * The load worker: retry of idempotent calls on, the image's defaults otherwise (the server's name
 * `echo-server`, resolved again every 5 s, as the stack's own worker does). Bounded by count and
 * time; the last test ends it sooner with SIGTERM, after which it prints its summary.
 */
const LOAD_ENVIRONMENT = {
  ECHO_SERVER_HOST: 'echo-server',
  RETRY_IDEMPOTENT: 'true',
  LOAD_REQUESTS: '1000000',
  LOAD_MAX_SECONDS: '240',
  LOAD_CONCURRENCY: String(LOAD_CONCURRENCY),
  LOAD_CONNECTIONS: '4',
  LOAD_TEXT_LENGTH: '16',
  CALL_TIMEOUT_MS: '2000',
  LOG_LEVEL: 'warn',
};
/**
 * A fifth of a core: a few thousand calls a second, so that the run stays far below LOAD_REQUESTS,
 * and the 2-core machine keeps room for the servers' start-up and healthchecks.
 */
const WORKER_CPUS = 0.2;
const WORKER_MEMORY_GB = 0.25;
/** The first start of the servers: the image, then a healthcheck every 5 s. */
const STARTUP_MS = 90_000;
const FIRST_CALLS_MS = 60_000;
/** How long the calls are watched to judge their spread. */
const FAIR_WINDOW_MS = 5_000;
/** 3 tasks, one at a time: start-first, healthy, old one drained, 5 s delay; then 30 s of monitoring. */
const UPDATE_MS = 150_000;
const REPLACEMENT_MS = 60_000;
const TRAFFIC_MS = 30_000;
/** What the issue asks of a scale-out: calls on the new replicas within 10 s (of their being ready). */
const NEW_REPLICA_TRAFFIC_MS = 10_000;
const WORKER_EXIT_MS = 20_000;
/** How a call may fail when a replica is killed under it: dropped, or (at worst) unanswered. */
const KILL_CODES = ['CONNECTION_LOST', 'CONNECTION_FAILED', 'TIMEOUT'];

/**
 * deploy/swarm/stack.yml as shipped, deployed with this run's images under a stack name of its
 * own, on a single-node swarm (initialised here when the engine is in none, and left afterwards
 * only then). The stack's own worker is scaled to 0 (CLIENT_WORKER_REPLICAS): the load comes from
 * a worker container on the stack's attachable overlay network, as the stack file tells clients to
 * run, so that it is one process for the whole suite (swarm's on-failure restart would start a
 * second run and split the counts), with a CPU limit of its own (the stack's 0.5 CPU lets it send
 * ~7000 calls a second, up to LOAD_REQUESTS within the suite), and so that the test follows its
 * output and stops it. It finds the servers as the stack's worker does: the name `echo-server`,
 * which dnsrr resolves to every healthy task. Its progress lines say how many calls each replica
 * address has carried, which gives the timeline below; every call is accounted for by its summary.
 */
describe('Swarm stack: 3 server replicas under load, through a rolling update, a killed replica and a scale-out', () => {
  const cleanup = new Cleanup();
  const stackName = uniqueName('swarm');
  const serverService = `${stackName}_echo-server`;
  const network = `${stackName}_echo-pair`;
  let docker: Docker;
  let worker: StartedTestContainer;
  let progress: ReplicaProgress;
  /** Failed calls of the kill: the only ones the run may have. */
  let killErrors = 0;
  const notes: string[] = [];

  const tasks = (): Promise<SwarmTask[]> => runningTasks(docker, serverService, network);
  const callsOf = (line: ReplicaProgressLine, address: string | undefined): number =>
    address === undefined ? 0 : (line.replicas.get(address)?.calls ?? 0);
  const addressesOf = (running: readonly SwarmTask[]): string[] => running.map((task) => task.address ?? `(task ${task.id} has none)`);

  /** Prints and keeps the counts of one event, from its first progress line to its last. */
  function note(event: string, start: ReplicaProgressLine, end: ReplicaProgressLine, extra = ''): void {
    const line =
      `${event}: ${((end.at - start.at) / 1000).toFixed(1)} s, sent ${end.sent - start.sent}, ok ${end.ok - start.ok}, ` +
      `failed ${end.errors - start.errors}; calls per replica ${formatDeltas(replicaDeltas(start, end))}${extra}`;
    notes.push(line);
    console.info(line);
  }

  beforeAll(async () => {
    docker = (await getContainerRuntimeClient()).container.dockerode;
    const created = await useSwarm(cleanup, docker);
    notes.push(created ? 'swarm: initialised for this suite (left afterwards)' : 'swarm: the engine was a manager already (kept)');
    await deployStack(cleanup, docker, {
      stackName,
      composeFile: STACK_FILE,
      environment: {
        ECHO_SERVER_IMAGE: IMAGES.echoServer.tag,
        CLIENT_WORKER_IMAGE: IMAGES.clientWorker.tag,
        ECHO_SERVER_REPLICAS: String(REPLICAS),
        CLIENT_WORKER_REPLICAS: '0',
        LOG_LEVEL: 'warn',
      },
    });
    await waitForTasks(
      docker,
      { service: serverService, network, what: `${REPLICAS} healthy server tasks`, timeoutMs: STARTUP_MS },
      (running) => (running.length === REPLICAS ? running : undefined),
    );
    worker = await startContainer(
      cleanup,
      clientWorkerContainer()
        .withNetworkMode(network)
        .withCommand(['load'])
        .withEnvironment(LOAD_ENVIRONMENT)
        .withResourcesQuota({ cpu: WORKER_CPUS, memory: WORKER_MEMORY_GB }),
    );
    progress = await ReplicaProgress.follow(cleanup, worker);
  });

  afterAll(async () => {
    console.info(`swarm stack ${stackName}:\n${notes.join('\n')}`);
    await cleanup.run();
  });

  it('spreads the calls over every replica, each at least half of an even share', async () => {
    const addresses = addressesOf(await tasks());
    expect(addresses).toHaveLength(REPLICAS);

    const start = await progress.waitFor(
      `calls to all of ${addresses.join(' ')}`,
      (line) => addresses.every((address) => callsOf(line, address) > 0),
      FIRST_CALLS_MS,
    );
    const end = await progress.waitFor('the end of the window', (line) => line.at >= start.at + FAIR_WINDOW_MS, FAIR_WINDOW_MS * 3, start);
    note('fair share, 3 replicas', start, end);

    const deltas = replicaDeltas(start, end);
    expect(belowFairShare(deltas, addresses)).toEqual([]);
    expect([...deltas.keys()].sort()).toEqual([...addresses].sort()); // no call went anywhere else
    expect(end.errors - start.errors).toBe(0);
  });

  it('rolls the servers over (docker service update --force) with 0 failed calls: drain, SHUTTING_DOWN, retry on another replica', async () => {
    const before = await tasks();
    expect(before).toHaveLength(REPLICAS);
    const start = progress.latest();

    const startedAt = Date.now();
    await dockerCliUpdate(serverService);
    await waitForUpdate(docker, serverService, UPDATE_MS);
    const completedAt = Date.now();

    const after = await tasks();
    expect(after).toHaveLength(REPLICAS);
    expect(after.filter((task) => before.some((old) => old.id === task.id))).toEqual([]);
    // Each old task drained and exited 0 (1 would mean a request in flight outlived the drain deadline).
    const replaced = (await serviceTasks(docker, serverService, network)).filter((task) => before.some((old) => old.id === task.id));
    expect(replaced.map((task) => ({ state: task.state, exitCode: task.exitCode }))).toEqual(
      before.map(() => ({ state: 'shutdown', exitCode: 0 })),
    );
    const newAddresses = addressesOf(after);
    const end = await progress.waitFor(
      `calls to every new replica (${newAddresses.join(' ')}) after the update`,
      (line) => line.at > completedAt && newAddresses.every((address) => callsOf(line, address) > 0),
      TRAFFIC_MS,
      start,
    );
    const deltas = replicaDeltas(start, end);
    const retried = addressesOf(before).reduce((sum, address) => sum + (deltas.get(address)?.failures ?? 0), 0);
    note(
      'rolling update',
      start,
      end,
      `; ${((completedAt - startedAt) / 1000).toFixed(1)} s to complete; ` +
        `${retried} call(s) seen refused or dropped by a draining replica, each repeated on another`,
    );

    expect(end.errors - start.errors).toBe(0);
    expect(newAddresses.every((address) => (deltas.get(address)?.failures ?? 0) === 0)).toBe(true);
  });

  it('a killed replica fails only the calls in flight on it, and its replacement gets calls again', async () => {
    const [victim] = await tasks();
    expect(victim.containerId).toBeDefined();
    const start = progress.latest();

    await docker.getContainer(victim.containerId!).kill({ signal: 'SIGKILL' });
    const killedAt = Date.now();
    const replacement = await waitForTasks(
      docker,
      { service: serverService, network, what: `a healthy replacement in slot ${victim.slot}`, timeoutMs: REPLACEMENT_MS },
      (running) => running.find((task) => task.slot === victim.slot && task.id !== victim.id),
    );
    // Swarm gives overlay addresses in sequence: a new task, a new address, so that its calls are its own.
    expect(replacement.address).toBeDefined();
    expect(replacement.address).not.toBe(victim.address);
    const firstCalls = await progress.waitFor(
      `calls to the replacement ${replacement.address}`,
      (line) => callsOf(line, replacement.address) > 0,
      TRAFFIC_MS,
      start,
    );
    const end = await progress.waitFor(
      `more calls to the replacement ${replacement.address}`,
      (line) => callsOf(line, replacement.address) > callsOf(firstCalls, replacement.address),
      TRAFFIC_MS,
      firstCalls,
    );
    const deltas = replicaDeltas(start, end);
    const victimFailures = deltas.get(victim.address!)?.failures ?? 0;
    killErrors = end.errors - start.errors;
    note(
      'killed replica',
      start,
      end,
      `; ${victim.address} killed: ${victimFailures} call(s) in flight on it failed there (repeated on another with retry), ` +
        `${killErrors} failed in all; replacement ${replacement.address} healthy ${((replacement.since - killedAt) / 1000).toFixed(1)} s ` +
        `after the kill, first calls seen ${((firstCalls.at - replacement.since) / 1000).toFixed(1)} s later`,
    );

    // No other replica failed a call; the calls that failed were some of those in flight on the
    // victim, which are at most LOAD_CONCURRENCY (the client sends none to a replica it lost).
    const otherFailures = [...deltas].filter(([address, { failures }]) => address !== victim.address && failures > 0);
    expect(otherFailures).toEqual([]);
    expect(victimFailures).toBeLessThanOrEqual(LOAD_CONCURRENCY);
    expect(killErrors).toBeLessThanOrEqual(victimFailures);
  });

  it(`scaling ${REPLICAS} → ${SCALED_REPLICAS} puts calls on the new replicas within 10 s of their being ready, then a fair share`, async () => {
    const before = await tasks();
    const start = progress.latest();

    const scaledAt = Date.now();
    await dockerCliScale(serverService, SCALED_REPLICAS);
    const running = await waitForTasks(
      docker,
      { service: serverService, network, what: `${SCALED_REPLICAS} healthy server tasks`, timeoutMs: REPLACEMENT_MS },
      (current) => (current.length === SCALED_REPLICAS ? current : undefined),
    );
    const added = running.filter((task) => !before.some((old) => old.id === task.id));
    expect(added).toHaveLength(SCALED_REPLICAS - REPLICAS);
    const firstCalls = await Promise.all(
      added.map((task) =>
        progress.waitFor(`calls to the new replica ${task.address}`, (line) => callsOf(line, task.address) > 0, TRAFFIC_MS, start),
      ),
    );
    const delays = added.map((task, index) => ({
      address: task.address,
      readyAfterMs: task.since - scaledAt,
      callsAfterReadyMs: firstCalls[index].at - task.since,
    }));
    // Then every one of the five carries its part.
    const reached = firstCalls.reduce((latest, line) => (line.at > latest.at ? line : latest));
    const end = await progress.waitFor(
      'the end of the window',
      (line) => line.at >= reached.at + FAIR_WINDOW_MS,
      FAIR_WINDOW_MS * 3,
      reached,
    );
    const addresses = addressesOf(running);
    note(
      `scale-out ${REPLICAS} → ${SCALED_REPLICAS}`,
      start,
      end,
      '; ' +
        delays
          .map(
            ({ address, readyAfterMs, callsAfterReadyMs }) =>
              `${address} healthy ${(readyAfterMs / 1000).toFixed(1)} s after the scale, first calls seen ${(callsAfterReadyMs / 1000).toFixed(1)} s later`,
          )
          .join('; ') +
        `; then over ${FAIR_WINDOW_MS / 1000} s: ${formatDeltas(replicaDeltas(reached, end), addresses)}`,
    );

    expect(delays.filter(({ callsAfterReadyMs }) => callsAfterReadyMs > NEW_REPLICA_TRAFFIC_MS)).toEqual([]);
    expect(belowFairShare(replicaDeltas(reached, end), addresses)).toEqual([]);
    expect(end.errors - start.errors).toBe(0);
  });

  it('accounts for every call when stopped: sent = succeeded + failed, failures only from the kill', async () => {
    const last = progress.latest();
    await docker.getContainer(worker.getId()).kill({ signal: 'SIGTERM' });
    const result = await waitForExit(worker.getId(), WORKER_EXIT_MS);

    expectExitCode(result, 0);
    expect(result.stdout).toMatch(
      new RegExp(`^stopped early: SIGTERM received; \\d+ of ${LOAD_ENVIRONMENT.LOAD_REQUESTS} requests sent$`, 'm'),
    );
    const summary = parseLoadSummary(result.stdout);
    const replicas = parseReplicaReport(result.stdout);
    notes.push(
      `whole run: sent ${summary.sent}, succeeded ${summary.ok}, failed ${summary.errors} (${formatErrorsByCode(summary.errorsByCode)})`,
      `calls per replica address over the run (last progress line): ${formatProgressLine(last)}`,
      `the worker's final report: ${replicas.map(({ instance, address, calls, failed }) => `${instance ?? '?'} at ${address} ${calls} (${failed} failed)`).join(', ')}`,
    );

    expect(summary.ok + summary.errors).toBe(summary.sent);
    expect(Object.values(summary.errorsByCode).reduce((sum, count) => sum + count, 0)).toBe(summary.errors);
    expect(summary.errors).toBe(killErrors);
    expect(Object.keys(summary.errorsByCode).filter((code) => !KILL_CODES.includes(code))).toEqual([]);
    // The final report: the five replicas running now, each named by its own hello.
    const running = await tasks();
    expect(replicas.map(({ address }) => address).sort()).toEqual(addressesOf(running).sort());
    expect(replicas.every(({ instance, calls }) => instance !== undefined && calls > 0)).toBe(true);
  });
});

function dockerCliUpdate(service: string): Promise<string> {
  return dockerCli(['service', 'update', '--force', '--detach', service], { timeoutMs: 60_000 });
}

function dockerCliScale(service: string, replicas: number): Promise<string> {
  return dockerCli(['service', 'scale', '--detach', `${service}=${replicas}`], { timeoutMs: 60_000 });
}
