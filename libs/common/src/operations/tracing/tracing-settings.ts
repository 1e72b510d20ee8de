/**
 * The standard OpenTelemetry variables this project's tracing reads
 * (https://opentelemetry.io/docs/specs/otel/configuration/sdk-environment-variables/). As the
 * specification asks, an invalid value is reported as a warning and its default is used: a
 * typo in an observability setting does not stop a service.
 *
 * - `OTEL_EXPORTER_OTLP_ENDPOINT` or `OTEL_EXPORTER_OTLP_TRACES_ENDPOINT`: set, tracing is on,
 *   exporting OTLP over HTTP (JSON) there; unset, tracing is off and nothing of the SDK is loaded.
 *   `OTEL_EXPORTER_OTLP_HEADERS`, `…_TIMEOUT`, `…_COMPRESSION` and their `…_TRACES_…` forms are
 *   read by the exporter itself.
 * - `OTEL_SDK_DISABLED=true` or `OTEL_TRACES_EXPORTER=none`: off, whatever the endpoint.
 * - `OTEL_SERVICE_NAME`, `OTEL_RESOURCE_ATTRIBUTES`: the resource (the service's own name by default).
 * - `OTEL_TRACES_SAMPLER` (`parentbased_always_on` by default), `OTEL_TRACES_SAMPLER_ARG`.
 * - `OTEL_PROPAGATORS`: `tracecontext,baggage` by default; `none` sends and reads no context.
 * - `OTEL_BSP_SCHEDULE_DELAY`, `OTEL_BSP_EXPORT_TIMEOUT`, `OTEL_BSP_MAX_QUEUE_SIZE`, `OTEL_BSP_MAX_EXPORT_BATCH_SIZE`.
 * - `OTEL_LOG_LEVEL`: the SDK's own diagnostics (`warn` by default), through the service's logger.
 */
export type Environment = Readonly<Record<string, string | undefined>>;

type SamplerName =
  'always_on' | 'always_off' | 'traceidratio' | 'parentbased_always_on' | 'parentbased_always_off' | 'parentbased_traceidratio';

export type PropagatorName = 'tracecontext' | 'baggage';

interface BatchSettings {
  scheduledDelayMillis?: number;
  exportTimeoutMillis?: number;
  maxQueueSize?: number;
  maxExportBatchSize?: number;
}

export interface TracingSettings {
  /** Why tracing stays off; undefined when an exporter endpoint is set and nothing disables it. */
  off?: string;
  sampler: SamplerName;
  /** The ratio of the `traceidratio` samplers, from 0 to 1. */
  samplerRatio: number;
  propagators: PropagatorName[];
  batch: BatchSettings;
  /** `OTEL_LOG_LEVEL`, lower-cased; `warn` by default. */
  logLevel: string;
  /** Invalid or unsupported values, each ignored for its default. */
  warnings: string[];
}

const SAMPLERS: readonly SamplerName[] = [
  'always_on',
  'always_off',
  'traceidratio',
  'parentbased_always_on',
  'parentbased_always_off',
  'parentbased_traceidratio',
];
const PROPAGATORS: readonly PropagatorName[] = ['tracecontext', 'baggage'];
const BATCH_VARIABLES: ReadonlyArray<[string, keyof BatchSettings]> = [
  ['OTEL_BSP_SCHEDULE_DELAY', 'scheduledDelayMillis'],
  ['OTEL_BSP_EXPORT_TIMEOUT', 'exportTimeoutMillis'],
  ['OTEL_BSP_MAX_QUEUE_SIZE', 'maxQueueSize'],
  ['OTEL_BSP_MAX_EXPORT_BATCH_SIZE', 'maxExportBatchSize'],
];
/** The only OTLP protocol the bundled exporter speaks; `http/protobuf` and `grpc` are not bundled. */
const OTLP_PROTOCOL = 'http/json';

/** Reads the tracing settings from `env`; never throws. */
export function readTracingSettings(env: Environment): TracingSettings {
  const warnings: string[] = [];
  const value = (name: string): string | undefined => {
    const raw = env[name]?.trim();
    return raw === undefined || raw === '' ? undefined : raw;
  };

  let off: string | undefined;
  const disabled = value('OTEL_SDK_DISABLED')?.toLowerCase();
  const exporter = value('OTEL_TRACES_EXPORTER')?.toLowerCase();
  if (disabled !== undefined && disabled !== 'true' && disabled !== 'false') {
    warnings.push(`OTEL_SDK_DISABLED="${disabled}" is neither true nor false: taken as false`);
  }
  if (exporter !== undefined && exporter !== 'otlp' && exporter !== 'none') {
    warnings.push(`OTEL_TRACES_EXPORTER="${exporter}" is not supported (otlp or none): taken as otlp`);
  }
  if (disabled === 'true') {
    off = 'OTEL_SDK_DISABLED=true';
  } else if (exporter === 'none') {
    off = 'OTEL_TRACES_EXPORTER=none';
  } else if (value('OTEL_EXPORTER_OTLP_TRACES_ENDPOINT') === undefined && value('OTEL_EXPORTER_OTLP_ENDPOINT') === undefined) {
    off = 'no OTEL_EXPORTER_OTLP_ENDPOINT';
  }
  for (const name of ['OTEL_EXPORTER_OTLP_TRACES_PROTOCOL', 'OTEL_EXPORTER_OTLP_PROTOCOL']) {
    const protocol = value(name);
    if (protocol !== undefined && protocol !== OTLP_PROTOCOL) {
      warnings.push(`${name}="${protocol}" is not supported: spans are sent as ${OTLP_PROTOCOL} (OTLP over HTTP, JSON)`);
      break;
    }
  }

  let sampler: SamplerName = 'parentbased_always_on';
  const samplerName = value('OTEL_TRACES_SAMPLER')?.toLowerCase();
  if (samplerName !== undefined) {
    if ((SAMPLERS as readonly string[]).includes(samplerName)) {
      sampler = samplerName as SamplerName;
    } else {
      warnings.push(`OTEL_TRACES_SAMPLER="${samplerName}" is not one of ${SAMPLERS.join(', ')}: using ${sampler}`);
    }
  }
  let samplerRatio = 1;
  const ratio = value('OTEL_TRACES_SAMPLER_ARG');
  if (ratio !== undefined && sampler.endsWith('traceidratio')) {
    const parsed = Number(ratio);
    if (Number.isFinite(parsed) && parsed >= 0 && parsed <= 1) {
      samplerRatio = parsed;
    } else {
      warnings.push(`OTEL_TRACES_SAMPLER_ARG="${ratio}" is not a ratio from 0 to 1: using 1`);
    }
  }

  let propagators: PropagatorName[] = [...PROPAGATORS];
  const propagatorList = value('OTEL_PROPAGATORS')?.toLowerCase();
  if (propagatorList !== undefined) {
    const names = propagatorList
      .split(',')
      .map((name) => name.trim())
      .filter((name) => name !== '');
    const unknown = names.filter((name) => name !== 'none' && !(PROPAGATORS as readonly string[]).includes(name));
    if (unknown.length > 0) {
      warnings.push(`OTEL_PROPAGATORS: ${unknown.join(', ')} not supported (tracecontext, baggage, none): left out`);
    }
    propagators = names.includes('none') ? [] : PROPAGATORS.filter((name) => names.includes(name));
  }

  const batch: BatchSettings = {};
  for (const [name, key] of BATCH_VARIABLES) {
    const raw = value(name);
    if (raw === undefined) {
      continue;
    }
    const parsed = Number(raw);
    if (Number.isInteger(parsed) && parsed > 0) {
      batch[key] = parsed;
    } else {
      warnings.push(`${name}="${raw}" is not a positive integer: using the default`);
    }
  }

  const logLevel = value('OTEL_LOG_LEVEL')?.toLowerCase() ?? 'warn';
  return { ...(off === undefined ? {} : { off }), sampler, samplerRatio, propagators, batch, logLevel, warnings };
}
