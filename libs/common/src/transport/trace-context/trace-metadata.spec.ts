import type { ReadPacket } from '@nestjs/microservices';
import { context, ROOT_CONTEXT, trace, type Span } from '@opentelemetry/api';
import { InMemorySpanExporter } from '@opentelemetry/sdk-trace';
import { startTracing, type Tracing } from '../../operations/tracing/start-tracing';
import { activeTraceIds, extractTraceContext, injectTraceContext } from './trace-metadata';
import { activeTracer } from './tracing-state';

const TRACEPARENT = /^00-[0-9a-f]{32}-[0-9a-f]{16}-01$/;

function packet(metadata?: Record<string, string>): ReadPacket {
  return metadata === undefined ? { pattern: 'echo', data: { text: 'x' } } : { pattern: 'echo', data: { text: 'x' }, metadata };
}

describe('trace context in packet metadata', () => {
  describe('with tracing off (the default)', () => {
    it('adds nothing to a packet, even inside a span context', () => {
      const sent = packet();
      const foreign = trace.wrapSpanContext({ traceId: '1'.repeat(32), spanId: '2'.repeat(16), traceFlags: 1 });
      context.with(trace.setSpan(ROOT_CONTEXT, foreign), () => injectTraceContext(sent));

      expect(sent).toEqual(packet());
      expect('metadata' in sent).toBe(false);
      expect(activeTraceIds()).toBeUndefined();
    });
  });

  describe('with tracing on', () => {
    let tracing: Tracing;
    let span: Span;

    beforeEach(() => {
      tracing = startTracing({ serviceName: 'unit', exporter: new InMemorySpanExporter(), simple: true, env: {} });
      span = activeTracer()!.startSpan('call');
    });

    afterEach(async () => {
      span.end();
      await tracing.shutdown();
    });

    const inSpan = <T>(run: () => T): T => context.with(trace.setSpan(context.active(), span), run);

    it('adds nothing outside any span: a call made outside a trace sends what it always sent', () => {
      const sent = packet();
      injectTraceContext(sent);

      expect(sent).toEqual(packet());
    });

    it('adds the W3C traceparent of the active span', () => {
      const sent = packet();
      inSpan(() => injectTraceContext(sent));

      const { traceId, spanId } = span.spanContext();
      expect(sent.metadata).toEqual({ traceparent: `00-${traceId}-${spanId}-01` });
      expect(sent.metadata?.traceparent).toMatch(TRACEPARENT);
    });

    it('keeps the metadata the packet had already', () => {
      const sent = packet({ tenant: 'a' });
      inSpan(() => injectTraceContext(sent));

      expect(sent.metadata).toEqual({ tenant: 'a', traceparent: expect.stringMatching(TRACEPARENT) as unknown });
    });

    it('extracts what it injected: the remote parent of the server span', () => {
      const sent = packet();
      inSpan(() => injectTraceContext(sent));

      const parent = trace.getSpanContext(extractTraceContext(sent.metadata));
      expect(parent).toEqual({ ...span.spanContext(), isRemote: true, traceState: undefined });
    });

    it.each([
      { label: 'none', metadata: undefined },
      { label: 'null', metadata: null },
      { label: 'a number', metadata: 42 },
      { label: 'an array', metadata: ['00-x'] },
      { label: 'a traceparent that is not a string', metadata: { traceparent: { evil: true } } },
      { label: 'a malformed traceparent', metadata: { traceparent: '00-zz-yy-01' } },
      { label: 'an all-zero trace id', metadata: { traceparent: `00-${'0'.repeat(32)}-${'1'.repeat(16)}-01` } },
      {
        label: 'an inherited traceparent only',
        metadata: Object.create({ traceparent: `00-${'1'.repeat(32)}-${'1'.repeat(16)}-01` }) as object,
      },
    ])('reads $label as no parent: the server span starts a trace of its own', ({ metadata }) => {
      expect(trace.getSpanContext(extractTraceContext(metadata))).toBeUndefined();
    });

    it('names the active span in log records, and nothing outside one', () => {
      expect(activeTraceIds()).toBeUndefined();
      expect(inSpan(() => activeTraceIds())).toEqual({ traceId: span.spanContext().traceId, spanId: span.spanContext().spanId });
    });
  });
});
