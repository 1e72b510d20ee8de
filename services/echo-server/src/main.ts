import 'reflect-metadata';
import { Logger } from '@nestjs/common';
import { consoleLoggerFromEnvironment, InvalidConfigurationError, startTracingFromEnvironment, type Tracing } from '@echo-pair/common';
import { startEchoServer } from './echo-server.factory';
import { drainOnSignals } from './operations/shutdown/shutdown-signals';

/** The `service.name` of the server's spans, unless OTEL_SERVICE_NAME says otherwise. */
const SERVICE_NAME = 'echo-server';

let tracing: Tracing | undefined;

/**
 * Exit codes: 1 when the server cannot start, 2 when its configuration is invalid;
 * after SIGTERM/SIGINT, 0 once drained, 1 if DRAIN_TIMEOUT_MS passed with requests open or on a second signal.
 * Tracing (OTEL_EXPORTER_OTLP_ENDPOINT set) starts before the server, and its last spans are
 * exported after the drain, before the process exits.
 */
async function main(): Promise<void> {
  // Until the application's own logger takes over: what tracing logs, in the service's format.
  Logger.overrideLogger(consoleLoggerFromEnvironment(process.env, { name: process.env.SERVER_NAME?.trim() || SERVICE_NAME }));
  tracing = startTracingFromEnvironment(SERVICE_NAME);
  const server = await startEchoServer();
  drainOnSignals(async () => {
    try {
      return await server.drain();
    } finally {
      await tracing?.shutdown().catch(() => undefined);
    }
  });
}

main().catch(async (error: unknown) => {
  console.error(`echo-server failed to start: ${error instanceof Error ? error.message : String(error)}`);
  await tracing?.shutdown().catch(() => undefined);
  process.exit(error instanceof InvalidConfigurationError ? 2 : 1);
});
