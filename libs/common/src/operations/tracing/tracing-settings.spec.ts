import { readTracingSettings } from './tracing-settings';

const ENDPOINT = { OTEL_EXPORTER_OTLP_ENDPOINT: 'http://collector:4318' };

describe('readTracingSettings', () => {
  it('is off without an OTLP endpoint, with the defaults otherwise', () => {
    expect(readTracingSettings({})).toEqual({
      off: 'no OTEL_EXPORTER_OTLP_ENDPOINT',
      sampler: 'parentbased_always_on',
      samplerRatio: 1,
      propagators: ['tracecontext', 'baggage'],
      batch: {},
      logLevel: 'warn',
      warnings: [],
    });
  });

  it.each([
    { label: 'the base endpoint', env: ENDPOINT },
    { label: 'the traces endpoint', env: { OTEL_EXPORTER_OTLP_TRACES_ENDPOINT: 'http://collector:4318/v1/traces' } },
  ])('is on with $label', ({ env }) => {
    expect(readTracingSettings(env).off).toBeUndefined();
  });

  it.each([
    { env: { ...ENDPOINT, OTEL_SDK_DISABLED: 'true' }, off: 'OTEL_SDK_DISABLED=true' },
    { env: { ...ENDPOINT, OTEL_TRACES_EXPORTER: 'none' }, off: 'OTEL_TRACES_EXPORTER=none' },
    { env: { OTEL_EXPORTER_OTLP_ENDPOINT: '  ' }, off: 'no OTEL_EXPORTER_OTLP_ENDPOINT' },
  ])('is off with $off', ({ env, off }) => {
    expect(readTracingSettings(env).off).toBe(off);
  });

  it('reads the sampler, its ratio, the propagators, the batching and the log level', () => {
    expect(
      readTracingSettings({
        ...ENDPOINT,
        OTEL_TRACES_SAMPLER: 'ParentBased_TraceIdRatio',
        OTEL_TRACES_SAMPLER_ARG: '0.25',
        OTEL_PROPAGATORS: 'tracecontext',
        OTEL_BSP_SCHEDULE_DELAY: '100',
        OTEL_BSP_MAX_EXPORT_BATCH_SIZE: '64',
        OTEL_LOG_LEVEL: 'DEBUG',
      }),
    ).toEqual({
      sampler: 'parentbased_traceidratio',
      samplerRatio: 0.25,
      propagators: ['tracecontext'],
      batch: { scheduledDelayMillis: 100, maxExportBatchSize: 64 },
      logLevel: 'debug',
      warnings: [],
    });
    expect(readTracingSettings({ ...ENDPOINT, OTEL_PROPAGATORS: 'none' }).propagators).toEqual([]);
  });

  it('warns of every invalid or unsupported value and keeps its default, as the specification asks', () => {
    const settings = readTracingSettings({
      ...ENDPOINT,
      OTEL_SDK_DISABLED: 'maybe',
      OTEL_TRACES_EXPORTER: 'zipkin',
      OTEL_EXPORTER_OTLP_PROTOCOL: 'grpc',
      OTEL_TRACES_SAMPLER: 'sometimes',
      OTEL_PROPAGATORS: 'b3,tracecontext',
      OTEL_BSP_SCHEDULE_DELAY: '-5',
    });

    expect(settings).toMatchObject({ sampler: 'parentbased_always_on', propagators: ['tracecontext'], batch: {} });
    expect(settings.off).toBeUndefined();
    expect(settings.warnings).toEqual([
      expect.stringContaining('OTEL_SDK_DISABLED="maybe"'),
      expect.stringContaining('OTEL_TRACES_EXPORTER="zipkin"'),
      expect.stringContaining('OTEL_EXPORTER_OTLP_PROTOCOL="grpc" is not supported: spans are sent as http/json'),
      expect.stringContaining('OTEL_TRACES_SAMPLER="sometimes"'),
      expect.stringContaining('OTEL_PROPAGATORS: b3 not supported'),
      expect.stringContaining('OTEL_BSP_SCHEDULE_DELAY="-5"'),
    ]);
  });

  it('refuses a ratio outside 0..1 for the ratio samplers', () => {
    const settings = readTracingSettings({ ...ENDPOINT, OTEL_TRACES_SAMPLER: 'traceidratio', OTEL_TRACES_SAMPLER_ARG: '2' });

    expect(settings.samplerRatio).toBe(1);
    expect(settings.warnings).toEqual([expect.stringContaining('OTEL_TRACES_SAMPLER_ARG="2"')]);
  });
});
