import { ECHO_CLIENT_OPTIONS, EchoClient, EchoClientModule, validatedConfigModule, type EchoClientOptions } from '@echo-pair/common';
import { Module, type DynamicModule } from '@nestjs/common';
import { ConfigService } from '@nestjs/config';
import type { WorkerEnvironment } from './config/worker-environment';
import { ServerConnector } from './connection/server-connector.service';
import { DemoRunner } from './demo/demo-runner.service';
import { LoadRunner } from './load/load-runner.service';
import { WorkerOutput } from './output/worker-output.service';
import { ReplRunner } from './repl/repl-runner.service';
import { ECHO_CLIENT_FACTORY, WORKER_INPUT, type EchoClientFactory } from './worker.tokens';

export interface WorkerModuleOptions {
  /** From `validateEnvironment(WorkerEnvironment, ...)`. */
  environment: WorkerEnvironment;
  input: NodeJS.ReadableStream;
  output: WorkerOutput;
}

/**
 * The client worker: configuration from the environment, the typed client of the
 * configured server, and the runners of its modes.
 */
@Module({})
export class WorkerModule {
  static register({ environment, input, output }: WorkerModuleOptions): DynamicModule {
    return {
      module: WorkerModule,
      imports: [
        validatedConfigModule(environment),
        EchoClientModule.registerAsync({
          inject: [ConfigService],
          useFactory: (config: ConfigService<WorkerEnvironment, true>): EchoClientOptions => ({
            host: config.get('ECHO_SERVER_HOST', { infer: true }),
            port: config.get('ECHO_SERVER_PORT', { infer: true }),
            timeoutMs: config.get('CALL_TIMEOUT_MS', { infer: true }),
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
            () =>
              EchoClient.create(options),
        },
        ServerConnector,
        DemoRunner,
        ReplRunner,
        LoadRunner,
      ],
    };
  }
}
