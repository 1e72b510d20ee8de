import { getContainerRuntimeClient, type ContainerRuntimeClient, type StartedNetwork, type StartedTestContainer } from 'testcontainers';
import { expectExitCode, type ProcessResult } from '../support/run-process';
import { delay, withTimeout } from './support/bounded';
import { Cleanup } from './support/cleanup';
import { waitForExit } from './support/container-exit';
import { echoServerContainer, startContainer, startNetwork } from './support/echo-containers';
import {
  formatErrorsByCode,
  LoadProgress,
  loadWorkerContainer,
  parseLoadSummary,
  type LoadCounts,
  type LoadSummary,
} from './support/load-worker';
import { SERVER_PORT } from './support/test-run';

/** The server's alias on the network: the worker image's default ECHO_SERVER_HOST. */
const SERVER_ALIAS = 'echo-server';
const CALL_TIMEOUT_MS = 1_000;
/**
 * Few calls in flight; bounded by count and time, though each test ends the run sooner with
 * SIGTERM, after which the worker finishes its calls in flight and prints its summary.
 */
const LOAD_ENVIRONMENT = {
  LOAD_REQUESTS: '1000000',
  LOAD_MAX_SECONDS: '120',
  LOAD_CONCURRENCY: '2',
  LOAD_CONNECTIONS: '2',
  LOAD_TEXT_LENGTH: '16',
  CALL_TIMEOUT_MS: String(CALL_TIMEOUT_MS),
  RECONNECT: 'true',
  RECONNECT_BACKOFF_MS: '100',
  RECONNECT_BACKOFF_MAX_MS: '1000',
  WHEN_DISCONNECTED: 'wait',
  // The client's "connection lost" and "reconnected" lines are logged at the levels warn and log.
  LOG_LEVEL: 'log',
};
/** Successes before the fault, and successes in a row (over a second or more) that count as recovered. */
const WARM_UP_OK = 20;
const RECOVERED_OK = 20;
const PROGRESS_WAIT_MS = 30_000;
const RECOVERY_WAIT_MS = 45_000;
const SERVER_EXIT_MS = 30_000;
/**
 * The docker-stop case's call timeout. Its fault ends with a start of the server, whose first
 * replies a loaded machine may take over a second to send: those are not what the case is
 * about (the drain answering every request it received), so its calls wait longer. A reply the
 * drain lost would still end as TIMEOUT.
 */
const DRAIN_CALL_TIMEOUT_MS = 5_000;
/** How long a worker may take to exit after SIGTERM: its calls in flight end within their timeout. */
const workerExitMs = (callTimeoutMs: number): number => callTimeoutMs + 15_000;
const PARTITION_MS = 4_000;
/** How a call may fail while the server is away or unreachable: dropped, not connected, or unanswered. */
const OUTAGE_CODES = ['CONNECTION_LOST', 'CONNECTION_FAILED', 'TIMEOUT'];
/**
 * How a call may fail while the server drains and is away: refused by the draining server, sent
 * in the instant between its last reply and its FIN, or not connected. Never TIMEOUT: the drain
 * answers every request it received.
 */
const DRAIN_CODES = ['SHUTTING_DOWN', 'CONNECTION_LOST', 'CONNECTION_FAILED'];
const LOST = `connection to ${SERVER_ALIAS}:${SERVER_PORT} lost; reconnecting`;
const RECONNECTED = `reconnected to ${SERVER_ALIAS}:${SERVER_PORT} after`;

type Docker = ContainerRuntimeClient['container']['dockerode'];

interface FaultRun {
  summary: LoadSummary;
  result: ProcessResult;
  /** The run's counts at the start of the first clean stretch after the fault was over. */
  recovered: LoadCounts;
}

/**
 * A load worker container against the server container on a fresh network, through three
 * faults: the server killed (SIGKILL) and started again, restarted at once, and the worker cut
 * off from the network for a while. Each time the same worker process recovers by itself,
 * and its summary accounts for every call it sent.
 */
describe('faults under load: the worker container recovers, every call accounted for', () => {
  const cleanup = new Cleanup();
  let docker: Docker;
  let network: StartedNetwork;
  let server: StartedTestContainer;

  beforeAll(async () => {
    docker = (await getContainerRuntimeClient()).container.dockerode;
    network = await startNetwork(cleanup);
    server = await startContainer(cleanup, echoServerContainer().withNetwork(network).withNetworkAliases(SERVER_ALIAS));
  });

  afterAll(() => cleanup.run());

  /**
   * Starts a load worker, waits for it to be sending, applies `fault` (which returns once the
   * fault is over), waits for a clean stretch of progress, then ends the run with SIGTERM.
   */
  async function underLoad(
    name: string,
    fault: (worker: StartedTestContainer, progress: LoadProgress) => Promise<void>,
    callTimeoutMs = CALL_TIMEOUT_MS,
  ): Promise<FaultRun> {
    const environment = { ...LOAD_ENVIRONMENT, CALL_TIMEOUT_MS: String(callTimeoutMs) };
    const worker = await startContainer(cleanup, loadWorkerContainer(network, environment));
    const container = docker.getContainer(worker.getId());
    try {
      const progress = await LoadProgress.follow(cleanup, worker);
      const warmedUp = await progress.waitFor(`${WARM_UP_OK} successes`, (counts) => counts.ok >= WARM_UP_OK, PROGRESS_WAIT_MS);
      expect(warmedUp.errors).toBe(0);
      const { State: startState } = await container.inspect();

      await fault(worker, progress);
      const recovered = await progress.waitForCleanStretch(RECOVERED_OK, RECOVERY_WAIT_MS, progress.count);

      // The same process throughout: still running, never restarted.
      const { State: state, RestartCount } = await container.inspect();
      expect({ running: state.Running, startedAt: state.StartedAt, restarts: RestartCount }).toEqual({
        running: true,
        startedAt: startState.StartedAt,
        restarts: 0,
      });

      await container.kill({ signal: 'SIGTERM' });
      const result = await waitForExit(worker.getId(), workerExitMs(callTimeoutMs));
      const summary = parseLoadSummary(result.stdout);
      console.info(
        `fault ${name}: sent ${summary.sent}, succeeded ${summary.ok}, failed ${summary.errors} ` +
          `(by code ${formatErrorsByCode(summary.errorsByCode)}); ` +
          `after recovery ${summary.ok - recovered.start.ok} succeeded, ${summary.errors - recovered.start.errors} failed`,
      );
      return { summary, result, recovered: recovered.start };
    } finally {
      // A run that a failed step left sending would load the next test's server.
      await container.kill({ signal: 'SIGKILL' }).catch(() => undefined);
    }
  }

  /** Every call sent is accounted for, failures only of the kinds an outage causes, none once recovered. */
  function expectAccounted({ summary, result, recovered }: FaultRun, allowedCodes = OUTAGE_CODES): void {
    // Stopped by a signal with every call accounted for and no wrong reply: exit code 0.
    expectExitCode(result, 0);
    expect(result.stdout).toMatch(
      new RegExp(`^stopped early: SIGTERM received; \\d+ of ${LOAD_ENVIRONMENT.LOAD_REQUESTS} requests sent$`, 'm'),
    );
    expect(summary.ok + summary.errors).toBe(summary.sent);
    expect(Object.values(summary.errorsByCode).reduce((sum, count) => sum + count, 0)).toBe(summary.errors);
    expect(Object.keys(summary.errorsByCode).filter((code) => !allowedCodes.includes(code))).toEqual([]);
    expect(summary.errors).toBe(recovered.errors);
    expect(summary.ok - recovered.ok).toBeGreaterThanOrEqual(RECOVERED_OK);
    // Connected once, at the start: the recovery was the client's, not a new run's.
    expect(result.stdout.match(/^connected to /gm)).toHaveLength(1);
  }

  it('SIGKILL of the server, then a start of the same container: calls fail, then the worker reconnects by itself', async () => {
    const run = await underLoad('sigkill', async () => {
      const container = docker.getContainer(server.getId());
      await container.kill({ signal: 'SIGKILL' });
      await withTimeout(container.wait() as Promise<unknown>, SERVER_EXIT_MS, 'waiting for the killed server to exit');
      // `docker restart` of the exited container starts it, with its alias, and waits for its healthcheck.
      await server.restart();
    });

    expectAccounted(run);
    expect(run.summary.errors).toBeGreaterThan(0);
    expect(run.result.stderr).toContain(LOST);
    expect(run.result.stderr).toContain(RECONNECTED);
  });

  it('a restart of the server at once on the same port: the worker reconnects by itself', async () => {
    const run = await underLoad('restart', async () => {
      // SIGTERM, and a start again as soon as the server has exited: no pause between the two.
      await server.restart({ timeout: 10_000 });
    });

    expectAccounted(run);
    expect(run.result.stderr).toContain(LOST);
    expect(run.result.stderr).toContain(RECONNECTED);
  });

  it('docker stop of the server under load: it drains and exits 0, later calls fail with typed errors, the worker recovers', async () => {
    let serverExitCode: number | undefined;
    const run = await underLoad(
      'docker-stop',
      async (_worker, progress) => {
        const container = docker.getContainer(server.getId());
        // SIGTERM, then SIGKILL after 15 s (compose's stop_grace_period): the drain must finish well before.
        await container.stop({ t: 15 });
        serverExitCode = (await container.inspect()).State.ExitCode;
        await progress.waitFor('a failed call while the server is stopped', (counts) => counts.errors > 0, PROGRESS_WAIT_MS);
        await server.restart();
      },
      DRAIN_CALL_TIMEOUT_MS,
    );

    // 0: every request in flight at SIGTERM replied before the deadline (1 would mean replies were lost).
    expect(serverExitCode).toBe(0);
    expectAccounted(run, DRAIN_CODES);
    expect(run.summary.errors).toBeGreaterThan(0);
    expect(run.result.stderr).toContain(RECONNECTED);
  });

  it('a network partition of the worker: calls time out meanwhile and succeed once it heals, in the same process', async () => {
    const dockerNetwork = docker.getNetwork(network.getId());
    const addresses: string[] = [];
    const run = await underLoad('partition', async (worker, progress) => {
      const container = docker.getContainer(worker.getId());
      const address = async (): Promise<string | undefined> =>
        (await container.inspect()).NetworkSettings.Networks[network.getName()]?.IPAddress;
      addresses.push((await address()) ?? 'none');
      const cutAt = Date.now();
      await dockerNetwork.disconnect({ Container: worker.getId() });
      try {
        expect(await address()).toBeUndefined();
        // The partition holds until calls fail, and at least PARTITION_MS.
        await progress.waitFor('a failed call during the partition', (counts) => counts.errors > 0, PROGRESS_WAIT_MS);
        await delay(Math.max(0, cutAt + PARTITION_MS - Date.now()));
      } finally {
        await dockerNetwork.connect({ Container: worker.getId() });
      }
      addresses.push((await address()) ?? 'none');
      if (addresses[1] !== addresses[0]) {
        // The worker's connection would then be half-open for good: a different fault from this partition.
        throw new Error(`the engine gave the worker another address on reconnecting (${addresses[0]}, then ${addresses[1]})`);
      }
    });

    expectAccounted(run);
    expect(run.summary.errors).toBeGreaterThan(0);
  });
});
