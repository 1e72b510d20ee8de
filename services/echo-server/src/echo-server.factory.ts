import { Logger, type INestApplication, type INestMicroservice, type ITransportServer } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import type { CustomStrategy } from '@nestjs/microservices';
import type { Socket as DgramSocket } from 'node:dgram';
import { once } from 'node:events';
import type { AddressInfo, DropArgument, Server, Socket } from 'node:net';
import type { TLSSocket, TlsOptions } from 'node:tls';
import {
  activeTracer,
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
import { Readiness } from './health-http/readiness.service';
import { RequestMetrics } from './metrics/request-metrics';
import { DrainService, type CallObserver, type DrainResult } from './shutdown/drain.service';
import { TextGatewayServer } from './text-gateway/text-gateway.server';
import { ServerTracing } from './tracing/server-tracing';
import { EchoServerTcp } from './transport/echo-server-tcp';
import { UdpServer } from './udp/udp.server';

export interface RunningEchoServer {
  /** A hybrid application: its microservices are the TCP transport, the text gateway and UDP, all serving the same controllers. */
  app: INestApplication;
  /** The address actually bound (the real port when ECHO_PORT=0). */
  host: string;
  port: number;
  /** The text gateway's port, unless TEXT_ENABLED=false. */
  textPort?: number;
  /** The UDP endpoint's port, unless UDP_ENABLED=false. */
  udpPort?: number;
  /** The HTTP side port (`/metrics`, `/healthz`, `/readyz`), unless METRICS_ENABLED=false. */
  metricsPort?: number;
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
    maxInFlight: environment.MAX_IN_FLIGHT_PER_CONNECTION,
    requirePattern: true,
    socketClass: framedJsonSocket({
      maxFrameLength: environment.MAX_MESSAGE_LENGTH,
      incompleteFrameTimeoutMs: environment.INCOMPLETE_MESSAGE_TIMEOUT_MS,
      maxBufferedBytes: environment.MAX_BUFFERED_BYTES,
      maxSendBufferBytes: environment.MAX_SEND_BUFFER_BYTES,
      noDelay: environment.TCP_NO_DELAY,
      // Rejections come from connections, so only after `app` exists and listens.
      onRejection: (rejection: SocketRejection) => app.get(ConnectionTracker).rejected(rejection),
    }),
  });
  const app = await NestFactory.create(EchoServerModule.forRoot(environment), {
    logger: createConsoleLogger({ format: environment.LOG_FORMAT, level: environment.LOG_LEVEL, name: environment.SERVER_NAME }),
    abortOnError: false,
  });
  const connections = app.get(ConnectionTracker);
  const drainService = app.get(DrainService);
  // The global guards, pipe and filter (APP_* providers) live in the application's config: inherit it.
  const tcp = app.connectMicroservice<CustomStrategy>({ strategy: tcpServer }, { inheritAppConfig: true });
  tcp.on('connection', (socket: Socket) => connections.track(socket, 'tcp'));
  tcp.on('drop', (peer: DropArgument) => connections.dropped(peer, environment.MAX_CONNECTIONS));
  if (tlsOptions !== undefined) {
    logTlsRefusals(tcp, connections);
  }
  const server = tcp.unwrap<Server>();
  server.maxConnections = environment.MAX_CONNECTIONS;
  const strategies: ITransportServer[] = [tcpServer];
  if (environment.TEXT_ENABLED) {
    strategies.push(connect(app, app.get(TextGatewayServer)));
  }
  if (environment.UDP_ENABLED) {
    strategies.push(connect(app, app.get(UdpServer)));
  }
  // The processing hooks count messages in flight for the drain, with metrics on time each request,
  // and with tracing on (`startTracing` before this) run each message in a server span of its own.
  const observers: CallObserver[] = [];
  const requestMetrics = environment.METRICS_ENABLED ? app.get(RequestMetrics) : undefined;
  const tracer = activeTracer();
  const tracing = tracer === undefined ? undefined : new ServerTracing(tracer);
  if (tracing !== undefined) {
    // The exception filter reports each failure's code to the drain service, which tells the observers.
    tracing.expectFailures();
    observers.push(tracing);
  }
  if (requestMetrics !== undefined) {
    observers.push(requestMetrics);
  }
  strategies.forEach((strategy) => drainService.countMessagesOf(strategy, ...observers));
  await app.init();
  await listenOrFail(app, server);

  const { address, port } = server.address() as AddressInfo;
  const transport = tlsOptions === undefined ? 'TCP' : tlsOptions.requestCert ? 'mutual TLS' : 'TLS';
  const logger = new Logger('EchoServer');
  logger.log(`listening on ${address}:${port} (${transport}, Nest JSON framing, framed socket)`);
  const textPort = environment.TEXT_ENABLED ? (app.get(TextGatewayServer).unwrap<Server>().address() as AddressInfo).port : undefined;
  const udpPort = environment.UDP_ENABLED ? app.get(UdpServer).unwrap<DgramSocket>().address().port : undefined;
  if (textPort !== undefined) {
    logger.log(`text gateway on ${environment.TEXT_HOST ?? environment.ECHO_HOST}:${textPort} (lines; try nc)`);
  }
  if (udpPort !== undefined) {
    logger.log(`UDP on ${environment.UDP_HOST ?? environment.ECHO_HOST}:${udpPort} (text lines or Nest packets as JSON)`);
  }
  let metricsPort: number | undefined;
  if (environment.METRICS_ENABLED) {
    watchListeners(app, server, environment);
    const metricsHost = environment.METRICS_HOST ?? environment.ECHO_HOST;
    metricsPort = await listenHttpOrFail(app, environment.METRICS_PORT, metricsHost);
    logger.log(`metrics and probes on http://${formatHost(metricsHost)}:${metricsPort} (/metrics, /healthz, /readyz)`);
  }
  const drain = async (deadlineMs = environment.DRAIN_TIMEOUT_MS): Promise<DrainResult> => {
    // UDP has no connections to refuse: new datagrams get SHUTTING_DOWN until the app closes.
    const listeners = [server, ...(textPort === undefined ? [] : [app.get(TextGatewayServer).unwrap<Server>()])];
    const result = await drainService.drain({ close: () => listeners.forEach((listener) => void listener.close()) }, deadlineMs);
    await app.close();
    return result;
  };
  return { app, host: address, port, textPort, udpPort, metricsPort, close: () => app.close(), drain };
}

/** Readiness asks each transport, when probed, whether it still listens. */
function watchListeners(app: INestApplication, tcp: Server, environment: EchoServerEnvironment): void {
  const readiness = app.get(Readiness);
  readiness.watch('tcp', () => tcp.listening);
  if (environment.TEXT_ENABLED) {
    const text = app.get(TextGatewayServer).unwrap<Server>();
    readiness.watch('text', () => text.listening);
  }
  if (environment.UDP_ENABLED) {
    const udp = app.get(UdpServer).unwrap<DgramSocket>();
    readiness.watch('udp', () => isBound(udp));
  }
}

function isBound(socket: DgramSocket): boolean {
  try {
    socket.address(); // throws once closed, or before it is bound
    return true;
  } catch {
    return false;
  }
}

/**
 * Starts the HTTP side port, once every transport listens (so `/readyz` is ready as soon
 * as it answers). The application is hybrid: its HTTP server serves only these routes.
 */
async function listenHttpOrFail(app: INestApplication, port: number, host: string): Promise<number> {
  (app.getHttpAdapter().getInstance() as { disable(setting: string): unknown }).disable('x-powered-by');
  try {
    await app.listen(port, host);
  } catch (error) {
    await app.close();
    throw new Error(`cannot listen on the metrics port ${formatHost(host)}:${port}: ${describeError(error)}`, { cause: error });
  }
  return ((app.getHttpServer() as Server).address() as AddressInfo).port;
}

/** `[::1]` for an IPv6 address in a URL or `host:port`. */
function formatHost(host: string): string {
  return host.includes(':') ? `[${host}]` : host;
}

function connect<S extends CustomStrategy['strategy']>(app: INestApplication, strategy: S): S {
  app.connectMicroservice<CustomStrategy>({ strategy }, { inheritAppConfig: true });
  return strategy;
}

/**
 * Starts every transport. Nest's TCP transport settles only on success or EADDRINUSE: any
 * other bind error (a mistyped ECHO_HOST, EACCES, EADDRNOTAVAIL) would leave it pending forever.
 */
async function listenOrFail(app: INestApplication, server: Server): Promise<void> {
  const bindError = once(server, 'error').then(([error]: unknown[]) => {
    throw error;
  });
  bindError.catch(() => undefined); // observed by the race below; never unhandled
  try {
    await Promise.race([app.startAllMicroservices(), bindError]);
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
function logTlsRefusals(app: INestMicroservice, connections: ConnectionTracker): void {
  const peers = new TlsPeerMemory();
  app.on('connection', peers.remember);
  app.on('tlsClientError', (error: Error, socket: TLSSocket) =>
    connections.tlsRefused(describeTlsClientError(error, socket, peers.peerOf)),
  );
}
