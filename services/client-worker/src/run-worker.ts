import { describeError, createConsoleLogger, InvalidConfigurationError, validateEnvironment } from '@echo-pair/common';
import { Logger, type INestApplicationContext, type Type } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import { serverAddressOf, serverPortOf } from './config/server-address';
import { retiredSettingWarnings } from './config/retired-settings';
import { WorkerEnvironment } from './config/worker-environment';
import { isWorkerMode, WORKER_MODES, type WorkerMode } from './config/worker-mode';
import { ServerConnector } from './connection/server-connector.service';
import { ServerUnavailableError } from './connection/server-unavailable.error';
import { DemoRunner } from './modes/demo/demo-runner.service';
import { LoadRunner } from './modes/load/load-runner.service';
import { serveMetrics, type MetricsHttpServer } from './metrics/metrics-http-server';
import { WorkerMetrics } from './metrics/worker-metrics';
import { WorkerOutput } from './output/worker-output.service';
import { ReplRunner } from './modes/repl/repl-runner.service';
import { SHUTDOWN_MARGIN_MS, ShutdownSignals } from './shutdown/shutdown-signals';
import type { WorkerModeRunner } from './modes/worker-mode-runner';
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
  const metrics = environment.METRICS_ENABLED ? new WorkerMetrics({ port: serverPortOf(environment) }) : undefined;

  let app: INestApplicationContext;
  try {
    app = await NestFactory.createApplicationContext(
      WorkerModule.register({ environment, input: io.input ?? process.stdin, output, metrics }),
      {
        logger: createConsoleLogger({
          format: environment.LOG_FORMAT,
          level: environment.LOG_LEVEL,
          name: 'client-worker',
          streams: 'stderr',
        }),
        abortOnError: false,
      },
    );
  } catch (error: unknown) {
    // TLS files are read while the client is built: an unusable one is bad configuration, like a bad variable.
    const badConfiguration = error instanceof InvalidConfigurationError;
    output.fail(`${badConfiguration ? 'client-worker' : 'client-worker failed to start'}: ${describeError(error)}`);
    return badConfiguration ? 2 : 1;
  }
  // Not `app.enableShutdownHooks()`: it closes the context under the running mode and re-raises
  // the signal, so the process dies by it without a summary. Here the mode stops issuing calls,
  // its calls in flight end (each bounded by CALL_TIMEOUT_MS), it reports, and the worker exits with its code.
  // Served while the mode runs; unreferenced, it never holds the process.
  const metricsServer = metrics === undefined ? undefined : await startMetricsServer(metrics, environment);
  const runner = app.get<WorkerModeRunner>(MODE_RUNNERS[mode]);
  const shutdown = new ShutdownSignals(environment.CALL_TIMEOUT_MS + SHUTDOWN_MARGIN_MS);
  shutdown.onFirst((signal) => {
    new Logger('ClientWorker').warn(`${signal} received: stopping (a second signal exits at once)`);
    runner.stop?.(`${signal} received`);
  });
  try {
    retiredSettingWarnings(process.env).forEach((warning) => new Logger('ClientWorker').warn(warning));
    new Logger('ClientWorker').log(`mode ${mode}, server ${serverAddressOf(environment)}`);
    const outcome = await shutdown.race(
      app
        .get(ServerConnector)
        .waitForServer()
        .then((hello) => runner.run(hello)),
      runner.stop !== undefined,
    );
    if (outcome.stopped !== undefined) {
      output.fail(`client-worker: ${outcome.stopped}`);
      return 1;
    }
    return outcome.code;
  } catch (error: unknown) {
    output.fail(
      error instanceof ServerUnavailableError ? `client-worker: ${error.message}` : `client-worker failed: ${describeError(error)}`,
    );
    return 1;
  } finally {
    shutdown.dispose();
    await app.close();
    await metricsServer?.close();
  }
}

/**
 * Serves `/metrics` on METRICS_HOST:METRICS_PORT. The port is secondary to the worker's calls: one
 * that cannot be bound (taken by another worker on the same host, say) is a warning, not a failure.
 */
async function startMetricsServer(metrics: WorkerMetrics, environment: WorkerEnvironment): Promise<MetricsHttpServer | undefined> {
  const logger = new Logger('Metrics');
  const host = environment.METRICS_HOST;
  const where = `${host.includes(':') ? `[${host}]` : host}:${environment.METRICS_PORT}`;
  try {
    const server = await serveMetrics(() => metrics.metrics(), host, environment.METRICS_PORT);
    logger.log(`metrics on http://${where.replace(/:\d+$/, `:${server.port}`)}/metrics`);
    return server;
  } catch (error: unknown) {
    logger.warn(
      `metrics not served: cannot listen on ${where} (${describeError(error)}); METRICS_PORT sets another port, METRICS_ENABLED=false none`,
    );
    return undefined;
  }
}
