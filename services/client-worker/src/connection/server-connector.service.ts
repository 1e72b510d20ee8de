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
import { StartupAttempts } from './startup-attempts';

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

/** Transport failures, which waiting may cure; any reply of the server, even an error, is final. */
const TRANSIENT_CODES: ReadonlySet<RpcClientErrorCode> = new Set(['CONNECTION_FAILED', 'CONNECTION_LOST', 'TIMEOUT']);

function isTransient(error: unknown): boolean {
  return error instanceof RpcClientError && TRANSIENT_CODES.has(error.code);
}
