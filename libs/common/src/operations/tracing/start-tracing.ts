import { Logger } from '@nestjs/common';
import type { SpanExporter } from '@opentelemetry/sdk-trace';
import type { Tracing } from './tracing';
import type * as TracingSdk from './tracing-sdk';
import { readTracingSettings, type Environment } from './tracing-settings';

export type { Tracing } from './tracing';

export interface StartTracingOptions {
  /** `service.name` of the spans, unless OTEL_SERVICE_NAME says otherwise. */
  serviceName: string;
  /** Where spans go; by default OTLP over HTTP as the OTEL_EXPORTER_OTLP_* variables say. */
  exporter?: SpanExporter;
  /** Export each span as it ends instead of in batches: for tests. */
  simple?: boolean;
  /** The OTEL_* variables (sampler, propagators, batching, resource); `process.env` by default. */
  env?: Environment;
}

/**
 * Starts tracing when the standard variables ask for it: an OTLP endpoint is set
 * (`OTEL_EXPORTER_OTLP_ENDPOINT` or `OTEL_EXPORTER_OTLP_TRACES_ENDPOINT`) and neither
 * `OTEL_SDK_DISABLED=true` nor `OTEL_TRACES_EXPORTER=none`. Otherwise it returns undefined, loads
 * nothing, and every traced path of this library stays a single check (see `activeTracer`).
 * Call it before the application is built, so that every client and server is traced.
 */
export function startTracingFromEnvironment(serviceName: string, env: Environment = process.env): Tracing | undefined {
  const settings = readTracingSettings(env);
  if (settings.off !== undefined) {
    settings.warnings.forEach((warning) => new Logger('Tracing').warn(warning));
    return undefined;
  }
  return startTracing({ serviceName, env });
}

/** Starts tracing, exporting to `options.exporter` or over OTLP: the SDK is loaded now, not before. */
export function startTracing({ serviceName, exporter, simple, env = process.env }: StartTracingOptions): Tracing {
  const settings = readTracingSettings(env);
  const logger = new Logger('Tracing');
  settings.warnings.forEach((warning) => logger.warn(warning));
  // Loaded on demand: the SDK, its exporter and their dependencies cost a process that does not trace nothing.
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  const sdk = require('./tracing-sdk') as typeof TracingSdk;
  const otlpUrl = exporter === undefined ? otlpTracesUrl(env) : undefined;
  const tracing = sdk.installTracingSdk({ serviceName, settings, exporter, otlpUrl, simple });
  const destination = otlpUrl === undefined ? 'the exporter given' : `OTLP/HTTP (JSON) to ${withoutCredentials(otlpUrl)}`;
  logger.log(`tracing on: ${destination}, sampler ${settings.sampler}, propagators ${settings.propagators.join(',') || 'none'}`);
  return tracing;
}

/**
 * Where spans go, as the specification says: `OTEL_EXPORTER_OTLP_TRACES_ENDPOINT` as it is, else
 * `OTEL_EXPORTER_OTLP_ENDPOINT` with `/v1/traces` added.
 */
export function otlpTracesUrl(env: Environment): string | undefined {
  const traces = env.OTEL_EXPORTER_OTLP_TRACES_ENDPOINT?.trim();
  if (traces) {
    return traces;
  }
  const base = env.OTEL_EXPORTER_OTLP_ENDPOINT?.trim();
  return base ? `${base.replace(/\/+$/, '')}/v1/traces` : undefined;
}

/** A URL for the log, without the credentials it might carry. */
function withoutCredentials(raw: string): string {
  try {
    const url = new URL(raw);
    return `${url.origin}${url.pathname}`;
  } catch {
    return JSON.stringify(raw);
  }
}
