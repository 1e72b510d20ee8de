import { TcpContext, type TcpSocket } from '@nestjs/microservices';
import { SpanKind, SpanStatusCode, trace } from '@opentelemetry/api';
import { InMemorySpanExporter, type ReadableSpan } from '@opentelemetry/sdk-trace';
import { activeTracer, startTracing, type Tracing } from '@echo-pair/common';
import { GatewayContext } from '../../core/gateway-context';
import { OTHER_PATTERN, ServerTracing } from './server-tracing';

const TRACE_ID = '0af7651916cd43dd8448eb211c80319c';
const CLIENT_SPAN_ID = 'b7ad6b7169203331';
const TRACEPARENT = `00-${TRACE_ID}-${CLIENT_SPAN_ID}-01`;

function tcpContext(pattern: string, metadata?: unknown): TcpContext {
  return new TcpContext([{} as TcpSocket, pattern, metadata as Record<string, string> | undefined]);
}

describe('ServerTracing', () => {
  let exporter: InMemorySpanExporter;
  let tracing: Tracing;
  let observer: ServerTracing;

  beforeEach(() => {
    exporter = new InMemorySpanExporter();
    tracing = startTracing({ serviceName: 'unit-server', exporter, simple: true, env: {} });
    observer = new ServerTracing(activeTracer()!);
    observer.expectFailures();
  });

  afterEach(() => tracing.shutdown());

  /** One message through the observer as the processing hooks drive it; `code` fails it as the exception filter would. */
  function handle(rpcContext: unknown, code?: 'UNKNOWN_COMMAND' | 'VALIDATION_FAILED'): ReadableSpan | undefined {
    observer.started();
    observer.around(rpcContext, () => {
      if (code !== undefined) {
        observer.failed(rpcContext, code);
      }
    });
    observer.ended(rpcContext);
    return exporter.getFinishedSpans().at(-1);
  }

  it('makes the span of a message the child of the client span its metadata names', () => {
    const span = handle(tcpContext('echo', { traceparent: TRACEPARENT }))!;

    expect(span).toMatchObject({
      name: 'echo',
      kind: SpanKind.SERVER,
      attributes: { 'rpc.system': 'nestjs', 'echo.pattern': 'echo', 'echo.transport': 'tcp', 'echo.outcome': 'ok' },
    });
    expect(span.spanContext().traceId).toBe(TRACE_ID);
    expect(span.parentSpanContext).toMatchObject({ traceId: TRACE_ID, spanId: CLIENT_SPAN_ID, isRemote: true });
    expect(span.resource.attributes['service.name']).toBe('unit-server');
  });

  it('runs the handling in the span: its context is active inside, and only there', () => {
    const rpcContext = tcpContext('hello', { traceparent: TRACEPARENT });
    let inside: string | undefined;

    observer.started();
    const returned = observer.around(rpcContext, () => {
      inside = trace.getActiveSpan()?.spanContext().spanId;
      return 'the handling result';
    });
    const outside = trace.getActiveSpan();
    observer.ended(rpcContext);

    expect(returned).toBe('the handling result');
    expect(inside).toBe(exporter.getFinishedSpans()[0].spanContext().spanId);
    expect(outside).toBeUndefined();
  });

  it('keeps the context across the awaits of an asynchronous handling', async () => {
    const rpcContext = tcpContext('echo', { traceparent: TRACEPARENT });
    observer.started();
    const seen = await observer.around(rpcContext, async () => {
      await new Promise((resolve) => setTimeout(resolve, 1));
      return trace.getActiveSpan()?.spanContext().traceId;
    });
    observer.ended(rpcContext);

    expect(seen).toBe(TRACE_ID);
  });

  it('gives a failed message its error code as outcome and error code, and an error status', () => {
    const span = handle(tcpContext('command', { traceparent: TRACEPARENT }), 'UNKNOWN_COMMAND')!;

    expect(span.attributes).toMatchObject({ 'echo.outcome': 'UNKNOWN_COMMAND', 'echo.error_code': 'UNKNOWN_COMMAND' });
    expect(span.status).toEqual({ code: SpanStatusCode.ERROR, message: 'UNKNOWN_COMMAND' });
    // The next message of the same pattern is not marked by it.
    expect(handle(tcpContext('command'))!.attributes['echo.outcome']).toBe('ok');
  });

  it('claims no outcome when nothing reports failures (metrics off)', () => {
    observer = new ServerTracing(activeTracer()!);

    expect(Object.keys(handle(tcpContext('echo'))!.attributes)).not.toContain('echo.outcome');
  });

  it('makes an event a consumer span', () => {
    expect(handle(tcpContext('note', { traceparent: TRACEPARENT }))).toMatchObject({ name: 'note', kind: SpanKind.CONSUMER });
  });

  it.each([
    { label: 'without metadata (a stock client)', rpcContext: tcpContext('echo') },
    { label: 'with junk metadata', rpcContext: tcpContext('echo', { traceparent: 'not-a-trace' }) },
    { label: 'with metadata that is not an object', rpcContext: tcpContext('echo', 'traceparent') },
    { label: 'over the text gateway', rpcContext: new GatewayContext(['echo', 'text', '127.0.0.1:5000']) },
    { label: 'over UDP without metadata', rpcContext: new GatewayContext(['echo', 'udp', '127.0.0.1:5000']) },
  ])('starts a trace of its own for a message $label', ({ rpcContext }) => {
    const span = handle(rpcContext)!;

    expect(span.parentSpanContext).toBeUndefined();
    expect(span.spanContext().traceId).not.toBe(TRACE_ID);
    expect(span.attributes['echo.transport']).toBe(rpcContext instanceof GatewayContext ? rpcContext.getTransport() : 'tcp');
  });

  it('reads the metadata of any RPC context that has getMetadata (UDP once its packets carry it)', () => {
    const udp = Object.assign(new GatewayContext(['echo', 'udp', '127.0.0.1:5000']), { getMetadata: () => ({ traceparent: TRACEPARENT }) });

    expect(handle(udp)!.parentSpanContext?.spanId).toBe(CLIENT_SPAN_ID);
  });

  it.each(['"echo"', 'ECHO', 'x'.repeat(500), '127.0.0.1:5000'])('names a pattern outside the contract (%j) "other"', (pattern) => {
    const span = handle(tcpContext(pattern))!;

    expect(span.name).toBe(OTHER_PATTERN);
    expect(span.attributes['echo.pattern']).toBe(OTHER_PATTERN);
  });

  it('leaves a context of no known transport alone, and ignores an end or a failure without a span', () => {
    const unknown = { pattern: 'echo' };
    let ran = false;
    observer.around(unknown, () => (ran = true));
    observer.failed(unknown, 'VALIDATION_FAILED');
    observer.ended(unknown);
    observer.ended(tcpContext('echo'));

    expect(ran).toBe(true);
    expect(exporter.getFinishedSpans()).toEqual([]);
  });
});
