import { Logger, type INestApplication } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import type { CustomStrategy } from '@nestjs/microservices';
import type { Socket as DgramSocket } from 'node:dgram';
import { once } from 'node:events';
import type { AddressInfo, Server } from 'node:net';
import { createConsoleLogger, describeError, validateEnvironment } from '@echo-pair/common';
import { EchoServerEnvironment } from './config/echo-server-environment';
import { EchoServerModule } from './echo-server.module';
import { DrainService, type DrainResult } from './operations/shutdown/drain.service';
import { TextGatewayServer } from './doors/text-gateway/text-gateway.server';
import { EchoServerTcp } from './doors/tcp/echo-server-tcp';
import { SERVED_TRANSPORTS, type ServedTransport } from './core/served-transport';
import { UdpServer } from './doors/udp/udp.server';

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
  const app = await NestFactory.create(EchoServerModule.forRoot(environment), {
    logger: createConsoleLogger({ format: environment.LOG_FORMAT, level: environment.LOG_LEVEL, name: environment.SERVER_NAME }),
    abortOnError: false,
  });
  const transports = app.get<readonly ServedTransport[]>(SERVED_TRANSPORTS);
  for (const { strategy } of transports) {
    // The global guards, pipe and filter (APP_* providers) live in the application's config: inherit it.
    app.connectMicroservice<CustomStrategy>({ strategy }, { inheritAppConfig: true });
  }
  await app.init();
  await listenOrFail(app, app.get(EchoServerTcp).unwrap<Server>());
  const addresses = reportListening(app, environment);
  const metricsPort = environment.METRICS_ENABLED ? await listenHttpOrFail(app, environment) : undefined;
  return { app, ...addresses, metricsPort, close: () => app.close(), drain: drainOf(app, transports, environment) };
}

/** Logs where each transport listens, and returns the addresses bound. */
function reportListening(
  app: INestApplication,
  environment: EchoServerEnvironment,
): Pick<RunningEchoServer, 'host' | 'port' | 'textPort' | 'udpPort'> {
  const tcp = app.get(EchoServerTcp);
  const { address, port } = tcp.unwrap<Server>().address() as AddressInfo;
  const logger = new Logger('EchoServer');
  logger.log(`listening on ${address}:${port} (${tcp.security}, Nest JSON framing, framed socket)`);
  const textPort = environment.TEXT_ENABLED ? (app.get(TextGatewayServer).unwrap<Server>().address() as AddressInfo).port : undefined;
  const udpPort = environment.UDP_ENABLED ? app.get(UdpServer).unwrap<DgramSocket>().address().port : undefined;
  if (textPort !== undefined) {
    logger.log(`text gateway on ${environment.TEXT_HOST ?? environment.ECHO_HOST}:${textPort} (lines; try nc)`);
  }
  if (udpPort !== undefined) {
    logger.log(`UDP on ${environment.UDP_HOST ?? environment.ECHO_HOST}:${udpPort} (text lines or Nest packets as JSON)`);
  }
  return { host: address, port, textPort, udpPort };
}

/** `RunningEchoServer.drain`: the transports stop accepting connections, the drain service waits and closes them, then the app closes. */
function drainOf(
  app: INestApplication,
  transports: readonly ServedTransport[],
  environment: EchoServerEnvironment,
): RunningEchoServer['drain'] {
  const drainService = app.get(DrainService);
  return async (deadlineMs = environment.DRAIN_TIMEOUT_MS) => {
    // UDP has no connections to refuse: new datagrams get SHUTTING_DOWN until the app closes.
    const listeners = { close: () => transports.forEach((transport) => transport.stopAccepting?.()) };
    const result = await drainService.drain(listeners, deadlineMs);
    await app.close();
    return result;
  };
}

/**
 * Starts the HTTP side port, once every transport listens (so `/readyz` is ready as soon
 * as it answers). The application is hybrid: its HTTP server serves only these routes.
 */
async function listenHttpOrFail(app: INestApplication, environment: EchoServerEnvironment): Promise<number> {
  const host = environment.METRICS_HOST ?? environment.ECHO_HOST;
  const port = environment.METRICS_PORT;
  (app.getHttpAdapter().getInstance() as { disable(setting: string): unknown }).disable('x-powered-by');
  try {
    await app.listen(port, host);
  } catch (error) {
    await app.close();
    throw new Error(`cannot listen on the metrics port ${formatHost(host)}:${port}: ${describeError(error)}`, { cause: error });
  }
  const bound = ((app.getHttpServer() as Server).address() as AddressInfo).port;
  new Logger('EchoServer').log(`metrics and probes on http://${formatHost(host)}:${bound} (/metrics, /healthz, /readyz)`);
  return bound;
}

/** `[::1]` for an IPv6 address in a URL or `host:port`. */
function formatHost(host: string): string {
  return host.includes(':') ? `[${host}]` : host;
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
