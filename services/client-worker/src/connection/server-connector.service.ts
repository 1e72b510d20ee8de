import { backoffDelayMs, describeError, EchoClient, RpcClientError, type HelloResponse, type RpcClientErrorCode } from '@echo-pair/common';
import { Injectable } from '@nestjs/common';
import { ConfigService } from '@nestjs/config';
import { catchError, defer, lastValueFrom, retry, throwError, timer } from 'rxjs';
import { serverAddressOf, serverAddressSettingsOf } from '../config/server-address';
import type { WorkerEnvironment } from '../config/worker-environment';
import { WorkerOutput } from '../output/worker-output.service';
import { ServerUnavailableError } from './server-unavailable.error';

/**
 * Waits for the echo server: the classic tutorials' "start the server first",
 * made robust with bounded retries and a capped, jittered exponential backoff.
 */
@Injectable()
export class ServerConnector {
  constructor(
    private readonly client: EchoClient,
    private readonly output: WorkerOutput,
    private readonly config: ConfigService<WorkerEnvironment, true>,
  ) {}

  /** Calls `hello` until the server answers, prints its welcome and returns it. */
  async waitForServer(): Promise<HelloResponse> {
    const setting = <K extends keyof WorkerEnvironment>(key: K): WorkerEnvironment[K] => this.config.get(key, { infer: true });
    const addressSettings = {
      ECHO_SERVER_HOST: setting('ECHO_SERVER_HOST'),
      ECHO_SERVER_PORT: setting('ECHO_SERVER_PORT'),
      ECHO_SERVER_UDP_PORT: setting('ECHO_SERVER_UDP_PORT'),
      ECHO_TRANSPORT: setting('ECHO_TRANSPORT'),
    };
    const server = serverAddressOf(addressSettings);
    const attempts = this.config.get('CONNECT_ATTEMPTS', { infer: true });
    const backoff = {
      initialDelayMs: this.config.get('CONNECT_BACKOFF_MS', { infer: true }),
      maxDelayMs: this.config.get('CONNECT_BACKOFF_MAX_MS', { infer: true }),
      factor: 2,
    };
    const name = this.config.get('WORKER_NAME', { infer: true });
    let attempt = 0;

    const hello = await lastValueFrom(
      defer(() => {
        attempt += 1;
        // Each probe fails at once while the server is away; the client reconnects in the background between probes.
        return this.client.hello({ client: name }, { whenDisconnected: 'fail-fast' });
      }).pipe(
        retry({
          count: attempts - 1,
          delay: (error: unknown, failures: number) => {
            if (!isTransient(error)) {
              return throwError(() => error);
            }
            const waitMs = backoffDelayMs(failures, backoff);
            this.output.print(
              `server ${server} not ready (${describeError(error)}), attempt ${failures}/${attempts}, retrying in ${waitMs} ms`,
            );
            return timer(waitMs);
          },
        }),
        catchError((error: unknown) => {
          if (!isTransient(error)) {
            return throwError(() => new ServerUnavailableError(`the echo server at ${server} refused hello (${describeError(error)})`));
          }
          this.output.print(`server ${server} not ready (${describeError(error)}), attempt ${attempt}/${attempts}, giving up`);
          return throwError(
            () =>
              new ServerUnavailableError(
                `no echo server answered at ${server} after ${attempts} attempt${attempts === 1 ? '' : 's'} ` +
                  `(last error ${describeError(error)}); is it running? check ${serverAddressSettingsOf(addressSettings)}`,
              ),
          );
        }),
      ),
    );
    this.printWelcome(hello, server, attempt);
    return hello;
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
