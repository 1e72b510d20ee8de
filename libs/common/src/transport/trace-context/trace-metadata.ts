import { context, propagation, ROOT_CONTEXT, trace, type Context, type TextMapGetter, type TextMapSetter } from '@opentelemetry/api';
import type { PacketMetadata, ReadPacket } from '@nestjs/microservices';
import { activeTracer } from './tracing-state';

const metadataSetter: TextMapSetter<PacketMetadata> = {
  set(carrier, key, value) {
    carrier[key] = value;
  },
};

/** Reads a packet's `metadata` as a peer sent it: anything at all, of which only string values count. */
const metadataGetter: TextMapGetter<unknown> = {
  keys(carrier) {
    return isRecord(carrier) ? Object.keys(carrier) : [];
  },
  get(carrier, key) {
    if (!isRecord(carrier) || !Object.hasOwn(carrier, key)) {
      return undefined;
    }
    const value = carrier[key];
    return typeof value === 'string' ? value : undefined;
  },
};

/**
 * The dispatch hook of the client's proxies (`ClientProxy#setOnDispatchHook`): adds the W3C trace
 * context (`traceparent`, `tracestate`; `baggage` too when that propagator is on) of the active
 * span to the packet's `metadata`. With tracing off it returns at once, and without an active
 * span (a call made outside any) it adds nothing: a packet carries `metadata` only when there is
 * a trace to continue, so that what stock peers receive is unchanged otherwise.
 */
export function injectTraceContext(packet: ReadPacket): void {
  if (activeTracer() === undefined) {
    return;
  }
  const active = context.active();
  if (trace.getSpan(active) === undefined) {
    return;
  }
  const carrier: PacketMetadata = {};
  propagation.inject(active, carrier, metadataSetter);
  if (Object.keys(carrier).length > 0) {
    packet.metadata = packet.metadata === undefined ? carrier : { ...packet.metadata, ...carrier };
  }
}

/**
 * The context a message's `metadata` carries (the client's span as the remote parent), on top of
 * the root context; the root context when there is none or it is not a valid trace context. A
 * peer may send anything as `metadata`: only string values of the propagators' keys are read,
 * and the propagators validate them.
 */
export function extractTraceContext(metadata: unknown): Context {
  return metadata === undefined || metadata === null ? ROOT_CONTEXT : propagation.extract(ROOT_CONTEXT, metadata, metadataGetter);
}

/** The trace id and span id of the active span, for a log record; undefined with tracing off or outside any span. */
export function activeTraceIds(): { traceId: string; spanId: string } | undefined {
  if (activeTracer() === undefined) {
    return undefined;
  }
  const span = trace.getSpan(context.active());
  if (span === undefined) {
    return undefined;
  }
  const { traceId, spanId } = span.spanContext();
  return { traceId, spanId };
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}
