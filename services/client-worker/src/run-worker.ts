import { describeError, createConsoleLogger, validateEnvironment } from '@echo-pair/common';
import { Logger, type INestApplicationContext, type Type } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import { WorkerEnvironment } from './config/worker-environment';
import { isWorkerMode, WORKER_MODES, type WorkerMode } from './config/worker-mode';
import { ServerConnector } from './connection/server-connector.service';
import { ServerUnavailableError } from './connection/server-unavailable.error';
import { DemoRunner } from './demo/demo-runner.service';
import { LoadRunner } from './load/load-runner.service';
import { WorkerOutput } from './output/worker-output.service';
import { ReplRunner } from './repl/repl-runner.service';
import type { WorkerModeRunner } from './worker-mode-runner';
import { WorkerModule } from './worker.module';

/** Streams that the worker uses instead of the process's own, e.g. in tests. */
export interface WorkerIo {
  /** Read by the REPL; defaults to stdin. */
  input?: NodeJS.ReadableStream;
  /** The transcript; defaults to stdout. */
  output?: NodeJS.WritableStream;
  /** Why the worker cannot go on (bad usage or configuration, no server); defaults to stderr. */
  errorOutput?: NodeJS.WritableStream;
}

const MODE_RUNNERS: Record<WorkerMode, Type<WorkerModeRunner>> = { demo: DemoRunner, repl: ReplRunner, load: LoadRunner };

/**
 * Runs the worker in the mode named by `argv[0]`, else by WORKER_MODE, else `demo`,
 * and resolves with the process's exit code: 0 on success, 1 when the run failed
 * or no server answered, 2 on bad usage or configuration.
 */
export async function runWorker(argv: readonly string[], io: WorkerIo = {}): Promise<number> {
  const output = new WorkerOutput(io.output ?? process.stdout, io.errorOutput ?? process.stderr);
  const [requested, ...extra] = argv;
  if (requested !== undefined && !isWorkerMode(requested)) {
    output.fail(`client-worker: unknown mode "${requested}"; valid modes: ${WORKER_MODES.join(', ')}`);
    return 2;
  }
  if (extra.length > 0) {
    output.fail(`client-worker: unexpected arguments after the mode: ${extra.join(' ')}; usage: client-worker [${WORKER_MODES.join('|')}]`);
    return 2;
  }

  // Validated before Nest starts, so that bad configuration is one clear message, not a failed bootstrap.
  let environment: WorkerEnvironment;
  try {
    environment = validateEnvironment(WorkerEnvironment, process.env);
  } catch (error: unknown) {
    output.fail(`client-worker: ${describeError(error)}`);
    return 2;
  }
  const mode = requested ?? environment.WORKER_MODE;

  let app: INestApplicationContext;
  try {
    app = await NestFactory.createApplicationContext(WorkerModule.register({ environment, input: io.input ?? process.stdin, output }), {
      logger: createConsoleLogger({
        format: environment.LOG_FORMAT,
        level: environment.LOG_LEVEL,
        name: 'client-worker',
        streams: 'stderr',
      }),
      abortOnError: false,
    });
  } catch (error: unknown) {
    output.fail(`client-worker failed to start: ${describeError(error)}`);
    return 1;
  }
  app.enableShutdownHooks(['SIGINT', 'SIGTERM']);

  try {
    new Logger('ClientWorker').log(`mode ${mode}, server ${environment.ECHO_SERVER_HOST}:${environment.ECHO_SERVER_PORT}`);
    const hello = await app.get(ServerConnector).waitForServer();
    return await app.get(MODE_RUNNERS[mode]).run(hello);
  } catch (error: unknown) {
    output.fail(
      error instanceof ServerUnavailableError ? `client-worker: ${error.message}` : `client-worker failed: ${describeError(error)}`,
    );
    return 1;
  } finally {
    await app.close();
  }
}
