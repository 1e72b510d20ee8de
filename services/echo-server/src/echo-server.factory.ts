import { memoryBudget, memoryBudgetLine } from './operations/memory/memory-budget';
import { Logger, type INestApplication } from '@nestjs/common';
import { ModuleRef, NestFactory } from '@nestjs/core';
import type { CustomStrategy } from '@nestjs/microservices';
import { once } from 'node:events';
import type { AddressInfo, Server } from 'node:net';
import { createConsoleLogger, describeError, validateEnvironment } from '@echo-pair/common';
import { EchoServerEnvironment } from './config/echo-server-environment';
import { EchoServerModule } from './echo-server.module';
import { DrainService, type DrainResult } from './operations/shutdown/drain.service';
import { EchoServerTcp } from './doors/tcp/echo-server-tcp';
import { installSyncFirstDispatch } from './doors/dispatch/sync-first-rpc-context-creator';
import { HTTP_SIDE_PORT, SERVED_TRANSPORTS, type HttpSidePort, type ServedTransport } from './core/served-transport';

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
    const fastPath = environment.ECHO_FAST_PATH;
    const microservice = app.connectMicroservice<CustomStrategy>({ strategy }, { inheritAppConfig: true, deferInitialization: fastPath });
    if (fastPath) {
      installSyncFirstDispatch(microservice); // then registers the handlers, as Nest does without deferInitialization
    }
  }
  await app.init();
  await listenOrFail(app, app.get(EchoServerTcp).unwrap<Server>());
  const addresses = reportListening(app, transports);
  const sidePort = optionalProvider<HttpSidePort>(app, HTTP_SIDE_PORT);
  const metricsPort = sidePort === undefined ? undefined : await listenHttpOrFail(app, sidePort);
  return { app, ...addresses, metricsPort, close: () => app.close(), drain: drainOf(app, transports, environment) };
}

/** Logs where each transport listens, and returns the addresses bound. */
function reportListening(
  app: INestApplication,
  transports: readonly ServedTransport[],
): Pick<RunningEchoServer, 'host' | 'port' | 'textPort' | 'udpPort'> {
  const tcp = app.get(EchoServerTcp);
  const { address, port } = tcp.unwrap<Server>().address() as AddressInfo;
  const logger = new Logger('EchoServer');
  logger.log(`listening on ${address}:${port} (${tcp.security}, Nest JSON framing, framed socket)`);
  const others = transports.filter(({ name }) => name !== 'tcp');
  others.forEach((transport) => logger.log(transport.listeningLine()));
  logger.log(memoryBudgetLine(memoryBudget()));
  const portOf = (name: string): number | undefined => others.find((transport) => transport.name === name)?.port();
  return { host: address, port, textPort: portOf('text'), udpPort: portOf('udp') };
}

/**
 * The provider of `token`, or undefined when no module provides it (an optional module removed or
 * disabled). Asked through ModuleRef: the application's own `get` would log the miss as an error.
 */
function optionalProvider<T>(app: INestApplication, token: symbol): T | undefined {
  try {
    return app.get(ModuleRef).get<T>(token, { strict: false });
  } catch {
    return undefined;
  }
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
async function listenHttpOrFail(app: INestApplication, { host, port }: HttpSidePort): Promise<number> {
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
