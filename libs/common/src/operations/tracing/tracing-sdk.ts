import { Logger } from '@nestjs/common';
import { context, diag, DiagLogLevel, propagation, trace, type DiagLogger, type TextMapPropagator } from '@opentelemetry/api';
import { AsyncLocalStorageContextManager } from '@opentelemetry/context-async-hooks';
import { CompositePropagator, W3CBaggagePropagator, W3CTraceContextPropagator } from '@opentelemetry/core';
import { OTLPTraceExporter } from '@opentelemetry/exporter-trace-otlp-http';
import { defaultResource, detectResources, envDetector, resourceFromAttributes } from '@opentelemetry/resources';
import {
  AlwaysOffSampler,
  AlwaysOnSampler,
  BatchSpanProcessor,
  ParentBasedSampler,
  SimpleSpanProcessor,
  TraceIdRatioBasedSampler,
  TracerProvider,
  type Sampler,
  type SpanExporter,
  type SpanProcessor,
} from '@opentelemetry/sdk-trace';
import type { Tracing } from './tracing';
import type { PropagatorName, TracingSettings } from './tracing-settings';
import { activeTracer, setActiveTracer } from '../../transport/trace-context/tracing-state';

/** The instrumentation scope of every span this project makes. */
export const TRACER_NAME = '@echo-pair/common';
const TRACER_VERSION = '0.1.0';
/**
 * The longest `shutdown()` waits for the last spans to be exported: a collector that cannot be
 * reached must not hold a process that is exiting (a drain's deadline, compose's grace period).
 */
export const SHUTDOWN_TIMEOUT_MS = 2_000;

export interface SdkOptions {
  serviceName: string;
  settings: TracingSettings;
  /** OTLP over HTTP to `otlpUrl` (the exporter reads the other OTEL_EXPORTER_OTLP_* variables) unless given. */
  exporter?: SpanExporter;
  /** The OTLP traces URL (`…/v1/traces`), from the variables `startTracing` was given. */
  otlpUrl?: string;
  /** Export each span when it ends (tests), rather than in batches. */
  simple?: boolean;
}

/**
 * Installs the OpenTelemetry SDK for this process, through the API this library uses (1.10),
 * so that its globals are the ones every part of the process sees: an AsyncLocalStorage context
 * manager (a span started for a call stays active across the `await`s of its handling), the
 * W3C propagators, and a tracer provider exporting to `exporter`. Loaded only when tracing is
 * started: a process without tracing never loads the SDK.
 */
export function installTracingSdk({ serviceName, settings, exporter, otlpUrl, simple = false }: SdkOptions): Tracing {
  if (activeTracer() !== undefined) {
    throw new Error('tracing is started already: shut it down before starting it again');
  }
  routeDiagnostics(settings.logLevel);
  const spanExporter = exporter ?? new OTLPTraceExporter(otlpUrl === undefined ? {} : { url: otlpUrl });
  const processor: SpanProcessor = simple
    ? new SimpleSpanProcessor({ exporter: spanExporter })
    : new BatchSpanProcessor({ exporter: spanExporter, ...settings.batch });
  // Later resources win: the service's name, then OTEL_SERVICE_NAME and OTEL_RESOURCE_ATTRIBUTES.
  const resource = defaultResource()
    .merge(resourceFromAttributes({ 'service.name': serviceName }))
    .merge(detectResources({ detectors: [envDetector] }));
  const provider = new TracerProvider({ resource, sampler: samplerOf(settings), spanProcessors: [processor] });
  const contextManager = new AsyncLocalStorageContextManager().enable();
  context.setGlobalContextManager(contextManager);
  propagation.setGlobalPropagator(propagatorOf(settings.propagators));
  trace.setGlobalTracerProvider(provider);
  setActiveTracer(provider.getTracer(TRACER_NAME, TRACER_VERSION));

  let stopped: Promise<void> | undefined;
  return {
    forceFlush: () => provider.forceFlush(),
    shutdown() {
      stopped ??= (async () => {
        // No new span from here; those ended are exported (the batch flushed) before the globals go.
        setActiveTracer(undefined);
        let timer: NodeJS.Timeout | undefined;
        try {
          await Promise.race([
            provider.shutdown(),
            new Promise<void>((resolve) => {
              timer = setTimeout(resolve, SHUTDOWN_TIMEOUT_MS).unref();
            }),
          ]);
        } finally {
          clearTimeout(timer);
          trace.disable();
          propagation.disable();
          context.disable();
          contextManager.disable();
          diag.disable();
        }
      })();
      return stopped;
    },
  };
}

function samplerOf({ sampler, samplerRatio }: TracingSettings): Sampler {
  switch (sampler) {
    case 'always_on':
      return new AlwaysOnSampler();
    case 'always_off':
      return new AlwaysOffSampler();
    case 'traceidratio':
      return new TraceIdRatioBasedSampler(samplerRatio);
    case 'parentbased_always_on':
      return new ParentBasedSampler({ root: new AlwaysOnSampler() });
    case 'parentbased_always_off':
      return new ParentBasedSampler({ root: new AlwaysOffSampler() });
    case 'parentbased_traceidratio':
      return new ParentBasedSampler({ root: new TraceIdRatioBasedSampler(samplerRatio) });
  }
}

function propagatorOf(names: readonly PropagatorName[]): TextMapPropagator {
  const propagators = names.map((name) => (name === 'tracecontext' ? new W3CTraceContextPropagator() : new W3CBaggagePropagator()));
  return new CompositePropagator({ propagators });
}

const DIAG_LEVELS: Record<string, DiagLogLevel> = {
  none: DiagLogLevel.NONE,
  error: DiagLogLevel.ERROR,
  warn: DiagLogLevel.WARN,
  info: DiagLogLevel.INFO,
  debug: DiagLogLevel.DEBUG,
  verbose: DiagLogLevel.VERBOSE,
  all: DiagLogLevel.ALL,
};

/** The SDK's own messages (an export that failed, a collector that cannot be reached) through the service's logger. */
function routeDiagnostics(level: string): void {
  const logger = new Logger('OpenTelemetry');
  const join = (message: string, args: unknown[]): string => [message, ...args.map((arg) => String(arg))].join(' ');
  const diagLogger: DiagLogger = {
    error: (message, ...args) => logger.error(join(message, args)),
    warn: (message, ...args) => logger.warn(join(message, args)),
    info: (message, ...args) => logger.log(join(message, args)),
    debug: (message, ...args) => logger.debug(join(message, args)),
    verbose: (message, ...args) => logger.verbose(join(message, args)),
  };
  diag.setLogger(diagLogger, { logLevel: DIAG_LEVELS[level] ?? DiagLogLevel.WARN, suppressOverrideMessage: true });
}
