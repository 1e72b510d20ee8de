import { context, SpanStatusCode, trace, type Context, type Span, type SpanKind, type Tracer } from '@opentelemetry/api';
import { OK_OUTCOME, RPC_SYSTEM_NAME, TraceAttributes } from '../transport/trace-context/trace-attributes';
import type { CallListener } from './echo-client-options';
import { RpcClientError } from './rpc-client.error';

/** The `echo.outcome` of a call that failed with something other than an `RpcClientError` (never expected). */
const UNEXPECTED_FAILURE = 'UNEXPECTED';

/**
 * What a call is observed by when tracing is on or a call listener is set: its span (a child of
 * the caller's active span, if any), and once it has ended the span's outcome and the listener's
 * report. A client makes one; a call that is observed by neither never comes here.
 */
export class CallTelemetry {
  constructor(
    private readonly onCall: CallListener | undefined,
    /** The `echo.transport` of its spans. */
    private readonly transport: 'tcp' | 'udp',
  ) {}

  observed<T>(pattern: string, kind: SpanKind, tracer: Tracer | undefined, run: (traceContext?: Context) => Promise<T>): Promise<T> {
    const startedAt = performance.now();
    let span: Span | undefined;
    let result: Promise<T>;
    if (tracer === undefined) {
      result = run();
    } else {
      span = tracer.startSpan(pattern, {
        kind,
        attributes: {
          [TraceAttributes.RPC_SYSTEM]: RPC_SYSTEM_NAME,
          [TraceAttributes.PATTERN]: pattern,
          [TraceAttributes.TRANSPORT]: this.transport,
        },
      });
      result = run(trace.setSpan(context.active(), span));
    }
    return result.then(
      (value) => {
        this.ended(pattern, startedAt, span);
        return value;
      },
      (error: unknown) => {
        this.ended(pattern, startedAt, span, error instanceof RpcClientError ? error.code : UNEXPECTED_FAILURE);
        throw error;
      },
    );
  }

  private ended(pattern: string, startedAt: number, span: Span | undefined, failure?: string): void {
    const outcome = failure ?? OK_OUTCOME;
    if (span !== undefined) {
      span.setAttribute(TraceAttributes.OUTCOME, outcome);
      if (failure !== undefined) {
        span.setAttribute(TraceAttributes.ERROR_CODE, failure);
        span.setStatus({ code: SpanStatusCode.ERROR, message: failure });
      }
      span.end();
    }
    if (this.onCall !== undefined) {
      try {
        this.onCall(pattern, outcome, (performance.now() - startedAt) / 1000);
      } catch {
        // A listener that throws must not turn a reply into a failure.
      }
    }
  }
}
