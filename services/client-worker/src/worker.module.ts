import {
  clientTlsOptions,
  ECHO_CLIENT_OPTIONS,
  EchoClient,
  EchoClientModule,
  readTlsFiles,
  tlsFilePathsOf,
  validatedConfigModule,
  type EchoClientOptions,
} from '@echo-pair/common';
import { Module, type DynamicModule } from '@nestjs/common';
import { ConfigService } from '@nestjs/config';
import type { WorkerEnvironment } from './config/worker-environment';
import { ServerConnector } from './connection/server-connector.service';
import { DemoRunner } from './demo/demo-runner.service';
import { LoadRunner } from './load/load-runner.service';
import { WorkerMetrics } from './metrics/worker-metrics';
import { WorkerOutput } from './output/worker-output.service';
import { ReplRunner } from './repl/repl-runner.service';
import { ECHO_CLIENT_FACTORY, WORKER_INPUT, type EchoClientFactory } from './worker.tokens';

export interface WorkerModuleOptions {
  /** From `validateEnvironment(WorkerEnvironment, ...)`. */
  environment: WorkerEnvironment;
  input: NodeJS.ReadableStream;
  output: WorkerOutput;
  /** With METRICS_ENABLED: told of every call of the worker's clients, and reads their connections when scraped. */
  metrics?: WorkerMetrics;
}

/**
 * The client worker: configuration from the environment, the typed client of the
 * configured server, and the runners of its modes. With metrics, every client (the
 * module's and those its factory makes for load mode) reports its calls and connections.
 */
@Module({})
export class WorkerModule {
  static register({ environment, input, output, metrics }: WorkerModuleOptions): DynamicModule {
    const transport = tlsTransportOf(environment);
    return {
      module: WorkerModule,
      imports: [
        validatedConfigModule(environment),
        EchoClientModule.registerAsync({
          inject: [ConfigService],
          useFactory: (config: ConfigService<WorkerEnvironment, true>): EchoClientOptions => ({
            host: config.get('ECHO_SERVER_HOST', { infer: true }),
            ...serverPortOf(config),
            timeoutMs: config.get('CALL_TIMEOUT_MS', { infer: true }),
            reconnect: {
              enabled: config.get('RECONNECT', { infer: true }),
              initialDelayMs: config.get('RECONNECT_BACKOFF_MS', { infer: true }),
              maxDelayMs: config.get('RECONNECT_BACKOFF_MAX_MS', { infer: true }),
            },
            whenDisconnected: config.get('WHEN_DISCONNECTED', { infer: true }),
            deadAfterTimeouts: config.get('DEAD_AFTER_TIMEOUTS', { infer: true }),
            keepAliveMs: config.get('TCP_KEEPALIVE_MS', { infer: true }),
            resolveIntervalMs: config.get('ECHO_RESOLVE_INTERVAL_MS', { infer: true }),
            retry: config.get('RETRY_IDEMPOTENT', { infer: true }) && { attempts: config.get('RETRY_ATTEMPTS', { infer: true }) },
            ...(transport === undefined ? {} : { transport }),
            ...(metrics === undefined ? {} : { onCall: metrics.onCall }),
          }),
        }),
      ],
      providers: [
        { provide: WorkerOutput, useValue: output },
        { provide: WORKER_INPUT, useValue: input },
        {
          provide: ECHO_CLIENT_FACTORY,
          inject: [ECHO_CLIENT_OPTIONS],
          useFactory:
            (options: EchoClientOptions): EchoClientFactory =>
            () => {
              const client = EchoClient.create(options);
              metrics?.watch(client);
              return client;
            },
        },
        ...(metrics === undefined
          ? []
          : [
              {
                provide: WorkerMetrics,
                inject: [EchoClient],
                useFactory: (client: EchoClient): WorkerMetrics => {
                  metrics.watch(client);
                  return metrics;
                },
              },
            ]),
        ServerConnector,
        DemoRunner,
        ReplRunner,
        LoadRunner,
      ],
    };
  }
}

/** The server's TCP port, or its UDP port with ECHO_TRANSPORT=udp. */
function serverPortOf(config: ConfigService<WorkerEnvironment, true>): Pick<EchoClientOptions, 'protocol' | 'port'> {
  const protocol = config.get('ECHO_TRANSPORT', { infer: true });
  return { protocol, port: config.get(protocol === 'udp' ? 'ECHO_SERVER_UDP_PORT' : 'ECHO_SERVER_PORT', { infer: true }) };
}

/**
 * TLS when TLS_CA_FILE is set: the server is verified against it (by TLS_SERVER_NAME, else
 * ECHO_SERVER_HOST), with TLS_CERT_FILE/TLS_KEY_FILE as the client certificate. The files are
 * read once, here; an unusable one throws `InvalidConfigurationError`.
 */
function tlsTransportOf(environment: WorkerEnvironment): EchoClientOptions['transport'] {
  if (environment.TLS_CA_FILE === undefined) {
    return undefined;
  }
  const material = readTlsFiles(tlsFilePathsOf(environment));
  return { tlsOptions: clientTlsOptions(material, { serverName: environment.TLS_SERVER_NAME }) };
}
