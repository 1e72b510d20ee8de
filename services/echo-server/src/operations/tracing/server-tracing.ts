import { TcpContext } from '@nestjs/microservices';
import { context as otelContext, SpanKind, SpanStatusCode, trace, type Span, type Tracer } from '@opentelemetry/api';
import {
  EVENT_PATTERNS,
  extractTraceContext,
  OK_OUTCOME,
  REQUEST_PATTERNS,
  RPC_SYSTEM_NAME,
  TraceAttributes,
  type ErrorCode,
} from '@echo-pair/common';
import type { CallObserver } from '../shutdown/drain.service';
import { patternAndTransportOf } from '../../core/served-call';

/** The pattern of a span whose message named a pattern outside the contract (as the metrics' `other`). */
export const OTHER_PATTERN = 'other';

const REQUESTS: ReadonlySet<string> = new Set(REQUEST_PATTERNS);
const EVENTS: ReadonlySet<string> = new Set(EVENT_PATTERNS);

/**
 * A server span per handled message, fed by the transports' processing hooks (a `CallObserver`
 * registered with `DrainService.observe` by `TracingModule`): the child of the client's span when
 * the packet's `metadata` carries its trace context, else the start of a trace. The handling runs
 * in its context (`around`), and it ends when the reply or error has been produced. A `SERVER` span
 * for a request, `CONSUMER` for an event, named by its pattern, with bounded attributes. Only made
 * when tracing is on. Details: docs/operations.md.
 */
export class ServerTracing implements CallObserver {
  private readonly spans = new Map<unknown, Span>();
  private readonly failures = new Map<unknown, ErrorCode>();
  private knowsFailures = false;

  constructor(private readonly tracer: Tracer) {}

  /** The span starts in `around`, which has the handling to run in its context. */
  started(): void {}

  around<T>(rpcContext: unknown, handle: () => T): T {
    const call = patternAndTransportOf(rpcContext);
    if (call === undefined) {
      return handle();
    }
    const isEvent = EVENTS.has(call.pattern);
    const pattern = isEvent || REQUESTS.has(call.pattern) ? call.pattern : OTHER_PATTERN;
    const parent = extractTraceContext(metadataOf(rpcContext));
    const span = this.tracer.startSpan(
      pattern,
      {
        kind: isEvent ? SpanKind.CONSUMER : SpanKind.SERVER,
        attributes: {
          [TraceAttributes.RPC_SYSTEM]: RPC_SYSTEM_NAME,
          [TraceAttributes.PATTERN]: pattern,
          [TraceAttributes.TRANSPORT]: call.transport,
        },
      },
      parent,
    );
    this.spans.set(rpcContext, span);
    return otelContext.with(trace.setSpan(parent, span), handle);
  }

  /** The exception filter produced the error envelope `code` for this message (reported by the filter through `DrainService.failed`). */
  failed(rpcContext: unknown, code: ErrorCode): void {
    if (this.spans.has(rpcContext)) {
      this.failures.set(rpcContext, code);
    }
  }

  /**
   * Failures will be reported (`failed`): a span without one is `ok`. Without this (no filter reporting:
   * nothing reports the filter's codes), spans claim no outcome rather than a wrong one.
   */
  expectFailures(): void {
    this.knowsFailures = true;
  }

  ended(rpcContext: unknown): void {
    const span = this.spans.get(rpcContext);
    if (span === undefined) {
      return;
    }
    this.spans.delete(rpcContext);
    const failure = this.failures.size > 0 ? this.failures.get(rpcContext) : undefined;
    if (failure !== undefined) {
      this.failures.delete(rpcContext);
      span.setAttribute(TraceAttributes.OUTCOME, failure);
      span.setAttribute(TraceAttributes.ERROR_CODE, failure);
      span.setStatus({ code: SpanStatusCode.ERROR, message: failure });
    } else if (this.knowsFailures) {
      span.setAttribute(TraceAttributes.OUTCOME, OK_OUTCOME);
    }
    span.end();
  }
}

/** The `metadata` of a message: Nest TCP's, or that of any RPC context that exposes it. */
function metadataOf(rpcContext: unknown): unknown {
  if (rpcContext instanceof TcpContext) {
    return rpcContext.getMetadata();
  }
  const getMetadata = (rpcContext as { getMetadata?: unknown }).getMetadata;
  return typeof getMetadata === 'function' ? (getMetadata as () => unknown).call(rpcContext) : undefined;
}
