import {
  backoffDelayMs,
  describeError,
  EchoClient,
  RpcClientError,
  type BackoffOptions,
  type ConnectFailure,
  type HelloResponse,
  type RpcClientErrorCode,
} from '@echo-pair/common';
import { Injectable } from '@nestjs/common';
import { serverAddressOf, serverAddressSettingsOf } from '../config/server-address';
import { WorkerEnvironment } from '../config/worker-environment';
import { WorkerOutput } from '../output/worker-output.service';
import { ServerUnavailableError } from './server-unavailable.error';

/**
 * Waits for the echo server: the classic tutorials' "start the server first", made robust.
 * The worker's `hello` waits for the client's connection, which the connection keeper opens and
 * retries with its reconnect backoff (RECONNECT_BACKOFF_*); each failed attempt is printed. A
 * `hello` that fails on an open connection (the peer closed it at once, or over UDP the port is
 * unreachable) counts as a failed attempt too, and is sent again after the same backoff. After
 * CONNECT_ATTEMPTS failed attempts, or CONNECT_ATTEMPTS × CALL_TIMEOUT_MS in all, it gives up.
 */
@Injectable()
export class ServerConnector {
  constructor(
    private readonly client: EchoClient,
    private readonly output: WorkerOutput,
    private readonly environment: WorkerEnvironment,
  ) {}

  /** Says `hello` once the client is connected, prints the server's welcome and returns it. */
  async waitForServer(): Promise<HelloResponse> {
    const { CONNECT_ATTEMPTS: attempts, CALL_TIMEOUT_MS: callTimeoutMs } = this.environment;
    const startup = new StartupAttempts(attempts, attempts * callTimeoutMs, this.output, {
      server: serverAddressOf(this.environment),
      settings: serverAddressSettingsOf(this.environment),
    });
    // Failed connects are counted while no connection is open (with replicas, while none is); one
    // without a next attempt (no reconnect) fails the `hello` waiting on it, which counts it instead.
    const progress = this.client.connectFailures.subscribe((failure: ConnectFailure) => {
      if (failure.retryInMs !== undefined && this.client.connectionInfo().state !== 'connected') {
        startup.failed(failure.error, failure.retryInMs);
      }
    });
    try {
      for (;;) {
        try {
          const hello = await startup.race(
            this.client.hello({ client: this.environment.WORKER_NAME }, { whenDisconnected: 'wait', timeoutMs: startup.remainingMs }),
          );
          this.printWelcome(hello, startup.server, startup.failures + 1);
          return hello;
        } catch (error: unknown) {
          if (error instanceof ServerUnavailableError) {
            throw error;
          }
          if (!isTransient(error)) {
            throw new ServerUnavailableError(`the echo server at ${startup.server} refused hello (${describeError(error)})`);
          }
          await startup.helloFailed(error, backoffDelayMs(startup.failures + 1, this.backoff()));
        }
      }
    } finally {
      progress.unsubscribe();
    }
  }

  private backoff(): Required<BackoffOptions> {
    return { initialDelayMs: this.environment.RECONNECT_BACKOFF_MS, maxDelayMs: this.environment.RECONNECT_BACKOFF_MAX_MS, factor: 2 };
  }

  private printWelcome(hello: HelloResponse, server: string, attempts: number): void {
    const after = attempts > 1 ? ` after ${attempts} attempts` : '';
    this.output.print(
      `connected to ${hello.server} ${hello.version} (instance ${hello.instance}) at ${server}${after}`,
      `  welcome   ${hello.welcome}`,
      `  patterns  requests: ${hello.patterns.requests.join(', ')}; events: ${hello.patterns.events.join(', ')}`,
      `  commands  ${hello.commands.map((command) => command.name).join(', ')}`,
    );
  }
}

/** The start-up's budget of failed attempts and time, shared by the keeper's failed connects and failed `hello`s. */
class StartupAttempts {
  failures = 0;
  private readonly deadline: number;
  private giveUp: (error: ServerUnavailableError) => void = () => undefined;
  private readonly gaveUp = new Promise<never>((_, reject) => (this.giveUp = reject));

  constructor(
    private readonly attempts: number,
    private readonly budgetMs: number,
    private readonly output: WorkerOutput,
    /** The server's address, and the settings that name it (for the hint when giving up). */
    private readonly where: { server: string; settings: string },
  ) {
    this.deadline = Date.now() + budgetMs;
    this.gaveUp.catch(() => undefined); // observed through `race`
  }

  get server(): string {
    return this.where.server;
  }

  get remainingMs(): number {
    return Math.max(1, this.deadline - Date.now());
  }

  /** `call`, unless the attempts run out first; a call lost that way is left to end by itself (the client's close ends it). */
  race<T>(call: Promise<T>): Promise<T> {
    call.catch(() => undefined);
    return Promise.race([call, this.gaveUp]);
  }

  /** A failed attempt, the next one `retryInMs` away: printed, and the end of the start-up if it was the last (then true). */
  failed(error: unknown, retryInMs: number): boolean {
    this.failures += 1;
    const outOfTime = Date.now() + retryInMs >= this.deadline;
    const last = this.failures >= this.attempts || outOfTime;
    this.output.print(
      `server ${this.server} not ready (${describeError(error)}), attempt ${this.failures}/${this.attempts}, ${last ? 'giving up' : `retrying in ${retryInMs} ms`}`,
    );
    if (last) {
      const how =
        outOfTime && this.failures < this.attempts
          ? `within ${this.budgetMs} ms`
          : `after ${this.failures} attempt${this.failures === 1 ? '' : 's'}`;
      this.giveUp(
        new ServerUnavailableError(
          `no echo server answered at ${this.server} ${how} (last error ${describeError(error)}); is it running? check ${this.where.settings}`,
        ),
      );
    }
    return last;
  }

  /** A `hello` that failed on the transport: a failed attempt; resolves when the next may be sent, rejects if none may. */
  async helloFailed(error: unknown, retryInMs: number): Promise<void> {
    if (this.failed(error, retryInMs)) {
      await this.gaveUp;
    }
    let timer: NodeJS.Timeout | undefined;
    try {
      await this.race(new Promise<void>((resolve) => (timer = setTimeout(resolve, retryInMs))));
    } finally {
      clearTimeout(timer); // when the attempts ran out meanwhile (a failed connect of the keeper)
    }
  }
}

/** Transport failures, which waiting may cure; any reply of the server, even an error, is final. */
const TRANSIENT_CODES: ReadonlySet<RpcClientErrorCode> = new Set(['CONNECTION_FAILED', 'CONNECTION_LOST', 'TIMEOUT']);

function isTransient(error: unknown): boolean {
  return error instanceof RpcClientError && TRANSIENT_CODES.has(error.code);
}
