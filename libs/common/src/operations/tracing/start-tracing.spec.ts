import { Logger } from '@nestjs/common';
import { createServer } from 'node:http';
import { context, propagation, trace } from '@opentelemetry/api';
import { InMemorySpanExporter } from '@opentelemetry/sdk-trace';
import type * as StartTracing from './start-tracing';
import { activeTracer, isTracingOn } from '../../transport/trace-context/tracing-state';

describe('otlpTracesUrl', () => {
  const { otlpTracesUrl } = jest.requireActual<typeof StartTracing>('./start-tracing');

  it.each([
    { env: {}, url: undefined },
    { env: { OTEL_EXPORTER_OTLP_ENDPOINT: 'http://collector:4318' }, url: 'http://collector:4318/v1/traces' },
    { env: { OTEL_EXPORTER_OTLP_ENDPOINT: 'http://collector:4318/base/' }, url: 'http://collector:4318/base/v1/traces' },
    {
      env: { OTEL_EXPORTER_OTLP_ENDPOINT: 'http://a:4318', OTEL_EXPORTER_OTLP_TRACES_ENDPOINT: 'http://b:4318/custom' },
      url: 'http://b:4318/custom',
    },
  ])('is $url for $env, as the specification says', ({ env, url }) => {
    expect(otlpTracesUrl(env)).toBe(url);
  });
});

describe('startTracing', () => {
  /** Nest's `Logger.prototype.log`, silenced: the `tracing on: …` line lands here. */
  let log: jest.SpyInstance;

  beforeEach(() => {
    log = jest.spyOn(Logger.prototype, 'log').mockImplementation(() => undefined);
    jest.spyOn(Logger.prototype, 'warn').mockImplementation(() => undefined);
  });

  afterEach(() => {
    jest.restoreAllMocks();
  });

  it('loads nothing of the SDK and starts nothing without an OTLP endpoint', () => {
    jest.isolateModules(() => {
      const sdkLoaded = jest.fn();
      jest.doMock('./tracing-sdk', () => {
        sdkLoaded();
        return {};
      });
      const { startTracingFromEnvironment } = jest.requireActual<typeof StartTracing>('./start-tracing');

      expect(startTracingFromEnvironment('unit', {})).toBeUndefined();
      expect(
        startTracingFromEnvironment('unit', { OTEL_EXPORTER_OTLP_ENDPOINT: 'http://127.0.0.1:1', OTEL_SDK_DISABLED: 'true' }),
      ).toBeUndefined();
      expect(sdkLoaded).not.toHaveBeenCalled();
      jest.dontMock('./tracing-sdk');
    });
  });

  describe('once started', () => {
    const { startTracing, startTracingFromEnvironment } = jest.requireActual<typeof StartTracing>('./start-tracing');

    it('installs a tracer, an AsyncLocalStorage context and the W3C propagators, and removes them on shutdown', async () => {
      const exporter = new InMemorySpanExporter();
      const tracing = startTracing({ serviceName: 'unit-service', exporter, simple: true, env: {} });
      expect(isTracingOn()).toBe(true);

      const span = activeTracer()!.startSpan('outer');
      const seen = await context.with(trace.setSpan(context.active(), span), async () => {
        await new Promise((resolve) => setTimeout(resolve, 1));
        const carrier: Record<string, string> = {};
        propagation.inject(context.active(), carrier);
        return { active: trace.getActiveSpan(), carrier };
      });
      span.end();

      expect(seen.active).toBe(span); // across the await
      expect(seen.carrier.traceparent).toBe(`00-${span.spanContext().traceId}-${span.spanContext().spanId}-01`);
      expect(exporter.getFinishedSpans().map((ended) => [ended.name, ended.resource.attributes['service.name']])).toEqual([
        ['outer', 'unit-service'],
      ]);

      await tracing.shutdown();
      expect(isTracingOn()).toBe(false);
      expect(activeTracer()).toBeUndefined();
      const carrier: Record<string, string> = {};
      propagation.inject(trace.setSpan(context.active(), span), carrier);
      expect(carrier).toEqual({});
      expect(log.mock.calls).toEqual([['tracing on: the exporter given, sampler parentbased_always_on, propagators tracecontext,baggage']]);
    });

    it('refuses to start twice, and starts again after a shutdown', async () => {
      const first = startTracing({ serviceName: 'unit', exporter: new InMemorySpanExporter(), env: {} });
      expect(() => startTracing({ serviceName: 'unit', exporter: new InMemorySpanExporter(), env: {} })).toThrow('started already');
      await first.shutdown();

      const second = startTracing({ serviceName: 'unit', exporter: new InMemorySpanExporter(), env: {} });
      expect(isTracingOn()).toBe(true);
      await second.shutdown();
    });

    it('takes OTEL_SERVICE_NAME over the name it is given, and OTEL_TRACES_SAMPLER', async () => {
      const exporter = new InMemorySpanExporter();
      const saved = process.env.OTEL_SERVICE_NAME;
      process.env.OTEL_SERVICE_NAME = 'from-environment';
      try {
        const tracing = startTracing({ serviceName: 'unit', exporter, simple: true, env: { OTEL_TRACES_SAMPLER: 'always_off' } });
        activeTracer()!.startSpan('dropped').end();
        await tracing.shutdown();
        expect(exporter.getFinishedSpans()).toEqual([]);

        const kept = new InMemorySpanExporter();
        const sampled = startTracing({ serviceName: 'unit', exporter: kept, simple: true, env: {} });
        activeTracer()!.startSpan('kept').end();
        expect(kept.getFinishedSpans().map((span) => span.resource.attributes['service.name'])).toEqual(['from-environment']);
        await sampled.shutdown();
      } finally {
        if (saved === undefined) {
          delete process.env.OTEL_SERVICE_NAME;
        } else {
          process.env.OTEL_SERVICE_NAME = saved;
        }
      }
    });

    it('exports over OTLP/HTTP when OTEL_EXPORTER_OTLP_ENDPOINT is set, flushing on shutdown', async () => {
      const bodies: Array<{ url?: string; type?: string; body: string }> = [];
      const collector = createServer((request, response) => {
        let body = '';
        request.on('data', (chunk: Buffer) => (body += chunk.toString()));
        request.on('end', () => {
          bodies.push({ url: request.url, type: request.headers['content-type'], body });
          response.writeHead(200, { 'Content-Type': 'application/json' }).end('{}');
        });
      });
      await new Promise<void>((resolve) => collector.listen(0, '127.0.0.1', resolve));
      try {
        const { port } = collector.address() as { port: number };
        const tracing = startTracingFromEnvironment('unit-otlp', { OTEL_EXPORTER_OTLP_ENDPOINT: `http://127.0.0.1:${port}` });
        expect(tracing).toBeDefined();
        activeTracer()!.startSpan('exported').end();
        await tracing!.shutdown();

        expect(bodies).toHaveLength(1);
        expect(bodies[0]).toMatchObject({ url: '/v1/traces', type: 'application/json' });
        expect(bodies[0].body).toContain('"name":"exported"');
        expect(bodies[0].body).toContain('unit-otlp');
      } finally {
        await new Promise((resolve) => collector.close(resolve));
      }
    });
  });
});
