import { Logger, type INestMicroservice } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import { Transport, type TcpOptions } from '@nestjs/microservices';
import { once } from 'node:events';
import type { AddressInfo, DropArgument, Server, Socket } from 'node:net';
import { createConsoleLogger, describeError, framedJsonSocket, validateEnvironment, type SocketRejection } from '@echo-pair/common';
import { EchoServerEnvironment } from './config/echo-server-environment';
import { ConnectionTracker } from './connections/connection-tracker.service';
import { EchoServerModule } from './echo-server.module';

export interface RunningEchoServer {
  app: INestMicroservice;
  /** The address actually bound (the real port when ECHO_PORT=0). */
  host: string;
  port: number;
  close(): Promise<void>;
}

export interface StartEchoServerOptions {
  /** Where configuration is read from; defaults to `process.env`. */
  env?: Record<string, string | undefined>;
}

/**
 * Validates the configuration, then builds and starts the echo server; used by
 * `main.ts` and the tests alike. Rejects with one message listing every bad variable.
 */
export async function startEchoServer({ env = process.env }: StartEchoServerOptions = {}): Promise<RunningEchoServer> {
  const environment = validateEnvironment(EchoServerEnvironment, env);
  const app = await NestFactory.createMicroservice<TcpOptions>(EchoServerModule.forRoot(environment), {
    logger: createConsoleLogger({ format: environment.LOG_FORMAT, level: environment.LOG_LEVEL, name: environment.SERVER_NAME }),
    abortOnError: false,
    transport: Transport.TCP,
    options: {
      host: environment.ECHO_HOST,
      port: environment.ECHO_PORT,
      socketClass: framedJsonSocket({
        maxFrameLength: environment.MAX_MESSAGE_LENGTH,
        incompleteFrameTimeoutMs: environment.INCOMPLETE_MESSAGE_TIMEOUT_MS,
        maxBufferedBytes: environment.MAX_BUFFERED_BYTES,
        maxSendBufferBytes: environment.MAX_SEND_BUFFER_BYTES,
        maxInFlight: environment.MAX_IN_FLIGHT_PER_CONNECTION,
        requirePattern: true,
        noDelay: environment.TCP_NO_DELAY,
        // Rejections come from connections, so only after `app` exists and listens.
        onRejection: (rejection: SocketRejection) => app.get(ConnectionTracker).rejected(rejection),
      }),
    },
  });
  const connections = app.get(ConnectionTracker);
  app.on('connection', (socket: Socket) => connections.track(socket));
  app.on('drop', (peer: DropArgument) => connections.dropped(peer, environment.MAX_CONNECTIONS));
  const server = app.unwrap<Server>();
  server.maxConnections = environment.MAX_CONNECTIONS;
  await listenOrFail(app, server);

  const { address, port } = server.address() as AddressInfo;
  new Logger('EchoServer').log(`listening on ${address}:${port} (TCP, Nest JSON framing, framed socket)`);
  return { app, host: address, port, close: () => app.close() };
}

/**
 * `app.listen()` settles only on success or EADDRINUSE: any other bind error
 * (a mistyped ECHO_HOST, EACCES, EADDRNOTAVAIL) would leave it pending forever.
 */
async function listenOrFail(app: INestMicroservice, server: Server): Promise<void> {
  const bindError = once(server, 'error').then(([error]: unknown[]) => {
    throw error;
  });
  bindError.catch(() => undefined); // observed by the race below; never unhandled
  try {
    await Promise.race([app.listen(), bindError]);
  } catch (error) {
    await app.close();
    throw new Error(`cannot listen: ${describeError(error)}`, { cause: error });
  }
}
