import 'reflect-metadata';
import { Logger } from '@nestjs/common';
import { consoleLoggerFromEnvironment, startTracingFromEnvironment } from '@echo-pair/common';
import { runWorker } from './run-worker';

/** The `service.name` of the worker's spans, unless OTEL_SERVICE_NAME says otherwise. */
const SERVICE_NAME = 'client-worker';

// Tracing (OTEL_EXPORTER_OTLP_ENDPOINT set) starts before the worker's clients are made, and its
// last spans are exported once the mode has ended, before the process exits. What it logs goes to
// stderr in the worker's format, as the worker's own log does (stdout is the transcript).
Logger.overrideLogger(consoleLoggerFromEnvironment(process.env, { name: SERVICE_NAME, streams: 'stderr' }));
const tracing = startTracingFromEnvironment(SERVICE_NAME);

runWorker(process.argv.slice(2))
  .then(
    (code) => {
      process.exitCode = code;
    },
    (error: unknown) => {
      console.error('client-worker crashed:', error);
      process.exitCode = 1;
    },
  )
  .finally(() => tracing?.shutdown().catch(() => undefined));
