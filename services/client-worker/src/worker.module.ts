import { ECHO_CLIENT_OPTIONS, EchoClient, EchoClientModule, type EchoClientOptions } from '@echo-pair/common';
import { Module, type DynamicModule } from '@nestjs/common';
import { echoClientOptionsOf } from './config/echo-client-options-of';
import { WorkerEnvironment } from './config/worker-environment';
import { ServerConnector } from './connection/server-connector.service';
import { DemoRunner } from './modes/demo/demo-runner.service';
import { LoadRunner } from './modes/load/load-runner.service';
import { WorkerMetrics } from './metrics/worker-metrics';
import { WorkerOutput } from './output/worker-output.service';
import { ReplRunner } from './modes/repl/repl-runner.service';
import { ECHO_CLIENT_FACTORY, WORKER_INPUT, type EchoClientFactory } from './modes/worker.tokens';

export interface WorkerModuleOptions {
  /** From `validateEnvironment(WorkerEnvironment, ...)`. */
  environment: WorkerEnvironment;
  input: NodeJS.ReadableStream;
  output: WorkerOutput;
  /** With METRICS_ENABLED: told of every call of the worker's clients, and reads their connections when scraped. */
  metrics?: WorkerMetrics;
}

/**
 * The client worker: its validated environment (injectable as `WorkerEnvironment`), the typed
 * client of the configured server with the options `echoClientOptionsOf` reads from it once,
 * and the runners of its modes. With metrics, every client (the module's and those its factory
 * makes for load mode) reports its calls and connections.
 */
@Module({})
export class WorkerModule {
  static register({ environment, input, output, metrics }: WorkerModuleOptions): DynamicModule {
    return {
      module: WorkerModule,
      // The options are built here, not in a provider: an unusable TLS file throws `InvalidConfigurationError` before Nest starts.
      imports: [EchoClientModule.register(echoClientOptionsOf(environment, metrics))],
      providers: [
        { provide: WorkerEnvironment, useValue: environment },
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
