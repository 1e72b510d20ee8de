import { Logger, type INestMicroservice } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import type { CustomStrategy } from '@nestjs/microservices';
import { once } from 'node:events';
import type { AddressInfo, DropArgument, Server, Socket } from 'node:net';
import type { TLSSocket, TlsOptions } from 'node:tls';
import {
  createConsoleLogger,
  describeError,
  describeTlsClientError,
  framedJsonSocket,
  readTlsFiles,
  tlsFilePathsOf,
  serverTlsOptions,
  TlsPeerMemory,
  validateEnvironment,
  type SocketRejection,
} from '@echo-pair/common';
import { EchoServerEnvironment } from './config/echo-server-environment';
import { ConnectionTracker } from './connections/connection-tracker.service';
import { EchoServerModule } from './echo-server.module';
import { DrainService, type DrainResult } from './shutdown/drain.service';
import { EchoServerTcp } from './transport/echo-server-tcp';

export interface RunningEchoServer {
  app: INestMicroservice;
  /** The address actually bound (the real port when ECHO_PORT=0). */
  host: string;
  port: number;
  /** Closes at once: requests in flight fail. */
  close(): Promise<void>;
  /**
   * Graceful shutdown: stops accepting connections, lets requests in flight reply
   * (new ones get SHUTTING_DOWN) for up to `deadlineMs` (default DRAIN_TIMEOUT_MS),
   * closes every connection after its last reply, then closes the app.
   */
  drain(deadlineMs?: number): Promise<DrainResult>;
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
  const tlsOptions = tlsOptionsOf(environment);
  // Nest's TCP transport, as a strategy instance so that its route lookup can skip a JSON.parse per message.
  const tcpServer = new EchoServerTcp({
    host: environment.ECHO_HOST,
    port: environment.ECHO_PORT,
    ...(tlsOptions === undefined ? {} : { tlsOptions }),
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
  });
  const app = await NestFactory.createMicroservice<CustomStrategy>(EchoServerModule.forRoot(environment), {
    logger: createConsoleLogger({ format: environment.LOG_FORMAT, level: environment.LOG_LEVEL, name: environment.SERVER_NAME }),
    abortOnError: false,
    strategy: tcpServer,
  });
  const connections = app.get(ConnectionTracker);
  app.on('connection', (socket: Socket) => connections.track(socket));
  app.on('drop', (peer: DropArgument) => connections.dropped(peer, environment.MAX_CONNECTIONS));
  app.get(DrainService).countMessagesOf(app.getTransportServer());
  if (tlsOptions !== undefined) {
    logTlsRefusals(app);
  }
  const server = app.unwrap<Server>();
  server.maxConnections = environment.MAX_CONNECTIONS;
  await listenOrFail(app, server);

  const { address, port } = server.address() as AddressInfo;
  const transport = tlsOptions === undefined ? 'TCP' : tlsOptions.requestCert ? 'mutual TLS' : 'TLS';
  new Logger('EchoServer').log(`listening on ${address}:${port} (${transport}, Nest JSON framing, framed socket)`);
  const drain = async (deadlineMs = environment.DRAIN_TIMEOUT_MS): Promise<DrainResult> => {
    const result = await app.get(DrainService).drain(server, deadlineMs);
    await app.close();
    return result;
  };
  return { app, host: address, port, close: () => app.close(), drain };
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

/** TLS from TLS_* (validated together), its files read and checked now: a bad file is a configuration error. */
function tlsOptionsOf(environment: EchoServerEnvironment): TlsOptions | undefined {
  if (environment.TLS_CERT_FILE === undefined) {
    return undefined;
  }
  const material = readTlsFiles(tlsFilePathsOf(environment));
  return serverTlsOptions(material, { requireClientCert: environment.TLS_REQUIRE_CLIENT_CERT });
}

/** Logs and counts each handshake that fails: plain TCP, no client certificate, one from another CA, a timeout. */
function logTlsRefusals(app: INestMicroservice): void {
  const connections = app.get(ConnectionTracker);
  const peers = new TlsPeerMemory();
  app.on('connection', peers.remember);
  app.on('tlsClientError', (error: Error, socket: TLSSocket) =>
    connections.tlsRefused(describeTlsClientError(error, socket, peers.peerOf)),
  );
}
