import { performance } from 'node:perf_hooks';
import { setTimeout as delay } from 'node:timers/promises';
import { EchoClient, RpcClientError } from '@echo-pair/common';
import { Inject, Injectable, type BeforeApplicationShutdown, type OnApplicationShutdown } from '@nestjs/common';
import { WorkerEnvironment } from '../../config/worker-environment';
import { formatCallError } from '../../output/format';
import { WorkerOutput } from '../../output/worker-output.service';
import type { WorkerModeRunner } from '../worker-mode-runner';
import { ECHO_CLIENT_FACTORY, type EchoClientFactory } from '../worker.tokens';
import { formatLoadReport, formatProgress, formatReplicaReport, type LoadRun, type ReplicaServed } from './load-report';
import { LoadTally } from './load-tally';
import { loadText } from './load-text';
import { ReplicaCallsTally } from './replica-calls';

const PROGRESS_INTERVAL_MS = 1_000;
/**
 * How often the calls per replica are read from the clients, for the progress line: often enough
 * that a replica the client drops (it waits 200 ms after a failure before resolving the name
 * again) has its last calls counted.
 */
const REPLICA_SAMPLE_MS = 100;
const OUTAGE_PAUSE_MS = 50;
/** The `hello` that asks each replica its instance, at the end: short, since the run is over. */
const INSTANCE_HELLO_TIMEOUT_MS = 1_000;

interface LoadPlan {
  requests: number;
  concurrency: number;
  textLength: number;
  deadline: number;
}

/**
 * Sends LOAD_REQUESTS echoes, LOAD_CONCURRENCY at a time spread over LOAD_CONNECTIONS
 * connections, checks every reply, and reports throughput and latency. Bounded in
 * count and in time: no request is issued after LOAD_MAX_SECONDS. When the server's name
 * has several addresses (replicas), each client spreads its calls over them; the progress
 * line adds the calls each replica address has carried so far (also those gone since), and
 * the report ends with how many calls each replica still known served, named by its `hello`
 * instance.
 */
@Injectable()
export class LoadRunner implements WorkerModeRunner, BeforeApplicationShutdown, OnApplicationShutdown {
  private readonly extraClients = new Set<EchoClient>();
  private stopping = false;
  private stopReason?: string;
  private driving?: Promise<LoadRun>;

  constructor(
    private readonly client: EchoClient,
    private readonly output: WorkerOutput,
    private readonly environment: WorkerEnvironment,
    @Inject(ECHO_CLIENT_FACTORY) private readonly createClient: EchoClientFactory,
  ) {}

  async run(): Promise<number> {
    const requests = this.environment.LOAD_REQUESTS;
    const concurrency = this.environment.LOAD_CONCURRENCY;
    // A connection without a lane would sit idle.
    const connections = Math.min(this.environment.LOAD_CONNECTIONS, concurrency, requests);
    const textLength = this.environment.LOAD_TEXT_LENGTH;
    const maxSeconds = this.environment.LOAD_MAX_SECONDS;
    this.output.print(
      '',
      `load: ${requests} echoes of ${textLength} characters, ${concurrency} in flight over ${connections} connection${connections === 1 ? '' : 's'}, for at most ${maxSeconds} s`,
    );
    try {
      const clients = [this.client, ...Array.from({ length: connections - 1 }, () => this.addClient())];
      try {
        // Connect up front so that connecting does not count as request latency.
        await Promise.all(clients.map((client) => client.connect()));
      } catch (error: unknown) {
        this.output.print(...formatCallError(error), `could not open ${connections} connections`);
        return 1;
      }
      const startedAt = performance.now();
      this.driving = this.drive(clients, { requests, concurrency, textLength, deadline: startedAt + maxSeconds * 1000 });
      const run = await this.driving;
      if (run.tally.sent < requests) {
        run.cutShort = this.stopping ? (this.stopReason ?? 'the worker is shutting down') : `the time limit of ${maxSeconds} s was reached`;
      }
      this.output.print(...formatLoadReport(run));
      this.output.print(...formatReplicaReport(await this.servedByReplica(clients)));
      return exitCode(run, this.stopReason !== undefined);
    } finally {
      await this.closeExtraClients();
    }
  }

  /** On SIGINT/SIGTERM: issue no new request; `run` resolves once those in flight have ended. */
  stop(reason: string): void {
    this.stopReason ??= reason;
    this.stopping = true;
  }

  /** Stop issuing, and let the requests in flight finish before the clients close. */
  async beforeApplicationShutdown(): Promise<void> {
    this.stopping = true;
    await this.driving;
  }

  async onApplicationShutdown(): Promise<void> {
    await this.closeExtraClients();
  }

  private async drive(clients: readonly EchoClient[], plan: LoadPlan): Promise<LoadRun> {
    const tally = new LoadTally();
    const startedAt = performance.now();
    const run: LoadRun = { tally, requested: plan.requests, durationMs: 0 };
    const replicas = new ReplicaCallsTally();
    let lastProgressAt = startedAt;
    let lastSampleAt = startedAt;

    // Each lane keeps one request in flight on its connection until none is left to issue.
    const lane = async (client: EchoClient): Promise<void> => {
      while (tally.sent < plan.requests && !this.stopping && performance.now() < plan.deadline) {
        const text = loadText(tally.sent, plan.textLength);
        tally.sent += 1;
        const sentAt = performance.now();
        try {
          const reply = await client.echo({ text });
          if (reply.text === text) {
            tally.succeeded(performance.now() - sentAt);
          } else {
            tally.failed('MISMATCH');
          }
        } catch (error: unknown) {
          tally.failed(error instanceof RpcClientError ? error.code : 'UNEXPECTED');
          if (error instanceof RpcClientError && error.code === 'CONNECTION_FAILED') {
            // Not connected (fail-fast, or a wait that ran out): a pause, so that a lane does not spin through its requests.
            await delay(OUTAGE_PAUSE_MS);
          }
        }
        const now = performance.now();
        const progressDue =
          now - lastProgressAt >= PROGRESS_INTERVAL_MS && tally.sent < plan.requests && now < plan.deadline && !this.stopping;
        // Sampled for the progress line itself too, so that its counts per replica are of that moment.
        if (progressDue || now - lastSampleAt >= REPLICA_SAMPLE_MS) {
          lastSampleAt = now;
          replicas.sample(clients);
        }
        if (progressDue) {
          lastProgressAt = now;
          run.durationMs = now - startedAt;
          this.output.print(formatProgress(run, replicas.totals()));
        }
      }
    };

    const lanes = Math.min(plan.concurrency, plan.requests);
    await Promise.all(Array.from({ length: lanes }, (_, index) => lane(clients[index % clients.length])));
    run.durationMs = performance.now() - startedAt;
    return run;
  }

  /**
   * The calls of every client, by replica (address), and each replica's instance: one `hello`
   * sent to it, failing fast and soon so that a replica gone does not hold the report up.
   */
  private async servedByReplica(clients: readonly EchoClient[]): Promise<ReplicaServed[]> {
    const byAddress = new Map<string, ReplicaServed & { client: EchoClient }>();
    for (const client of clients) {
      for (const { address, calls, failures } of client.connectionInfo().replicas) {
        const served = byAddress.get(address);
        if (served === undefined) {
          byAddress.set(address, { address, calls, failures, client });
        } else {
          served.calls += calls;
          served.failures += failures;
        }
      }
    }
    const name = this.environment.WORKER_NAME;
    const timeoutMs = Math.min(this.environment.CALL_TIMEOUT_MS, INSTANCE_HELLO_TIMEOUT_MS);
    return Promise.all(
      [...byAddress.values()].map(async ({ client, ...served }): Promise<ReplicaServed> => {
        const options = { replica: served.address, timeoutMs, whenDisconnected: 'fail-fast', retry: false } as const;
        const instance = await client.hello({ client: name }, options).then(
          (hello) => hello.instance,
          () => undefined,
        );
        return { ...served, instance };
      }),
    );
  }

  private addClient(): EchoClient {
    const client = this.createClient();
    this.extraClients.add(client);
    return client;
  }

  private async closeExtraClients(): Promise<void> {
    const clients = [...this.extraClients];
    this.extraClients.clear();
    await Promise.all(clients.map((client) => client.close()));
  }
}

/** A reply that is not the text sent is a defect of the pair, whatever else happened. */
const DEFECT_CODES = new Set(['MISMATCH', 'UNEXPECTED']);

/**
 * 0 when every request was sent and answered correctly; also when the run was stopped by a
 * signal, every request sent was accounted for, and no reply was wrong (transport failures
 * during an outage are reported, not fatal: the operator ended the run). Otherwise 1.
 */
function exitCode({ tally, requested }: LoadRun, stoppedBySignal: boolean): number {
  if (tally.ok === requested) {
    return 0;
  }
  const accounted = tally.completed === tally.sent;
  const defects = [...tally.errorsByCode.keys()].some((code) => DEFECT_CODES.has(code));
  return stoppedBySignal && accounted && !defects ? 0 : 1;
}
