import { describeError, EchoClient, RpcClientError, type HelloResponse, type RpcClientErrorCode } from '@echo-pair/common';
import { Injectable } from '@nestjs/common';
import { serverAddressOf, serverAddressSettingsOf } from '../config/server-address';
import { WorkerEnvironment } from '../config/worker-environment';
import { WorkerOutput } from '../output/worker-output.service';
import { ServerUnavailableError } from './server-unavailable.error';

/**
 * Waits for the echo server: the classic tutorials' "start the server first", made robust. It has
 * no retry loop of its own: the client's connection keeper makes the attempts, with its reconnect
 * backoff (RECONNECT_BACKOFF_*), and the worker's `hello` waits for that connection. Each failed
 * attempt is printed; after CONNECT_ATTEMPTS of them, or CONNECT_ATTEMPTS × CALL_TIMEOUT_MS in
 * all (an attempt that hangs), it gives up.
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
    const { CONNECT_ATTEMPTS: attempts, CALL_TIMEOUT_MS: callTimeoutMs, WORKER_NAME: name } = this.environment;
    const server = serverAddressOf(this.environment);
    let failures = 0;
    let giveUp: (error: ServerUnavailableError) => void = () => undefined;
    const gaveUp = new Promise<never>((_, reject) => (giveUp = reject));
    const progress = this.client.connectFailures.subscribe(({ error, retryInMs }) => {
      failures += 1;
      const last = retryInMs === undefined || failures >= attempts;
      this.output.print(
        `server ${server} not ready (${describeError(error)}), attempt ${failures}/${attempts}, ${last ? 'giving up' : `retrying in ${retryInMs} ms`}`,
      );
      if (last) {
        giveUp(this.noServer(server, `after ${failures} attempt${failures === 1 ? '' : 's'}`, error));
      }
    });
    // `hello` is idempotent: repeated (within its timeout) should the connection drop just as it is sent.
    const hello = this.client.hello({ client: name }, { whenDisconnected: 'wait', timeoutMs: attempts * callTimeoutMs, retry: true });
    hello.catch(() => undefined); // lost to `gaveUp` when the attempts run out first; the client's close ends it
    try {
      const welcome = await Promise.race([hello, gaveUp]);
      this.printWelcome(welcome, server, failures + 1);
      return welcome;
    } catch (error: unknown) {
      if (error instanceof ServerUnavailableError) {
        throw error;
      }
      if (!isTransient(error)) {
        throw new ServerUnavailableError(`the echo server at ${server} refused hello (${describeError(error)})`);
      }
      this.output.print(`server ${server} not ready (${describeError(error)}), giving up`);
      throw this.noServer(server, `within ${attempts * callTimeoutMs} ms`, error);
    } finally {
      progress.unsubscribe();
    }
  }

  private noServer(server: string, how: string, lastError: unknown): ServerUnavailableError {
    return new ServerUnavailableError(
      `no echo server answered at ${server} ${how} (last error ${describeError(lastError)}); ` +
        `is it running? check ${serverAddressSettingsOf(this.environment)}`,
    );
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
