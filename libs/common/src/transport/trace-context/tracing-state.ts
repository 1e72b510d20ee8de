import type { Tracer } from '@opentelemetry/api';

/**
 * The tracer of the tracing that `startTracing` installed, or undefined while tracing is off.
 * Every traced path reads it first and, when it is undefined, does nothing else: no span, no
 * context lookup, no metadata. So a process that never starts tracing pays one read per call.
 */
let installed: Tracer | undefined;

/** The installed tracer, or undefined when tracing is off (the default). */
export function activeTracer(): Tracer | undefined {
  return installed;
}

/** Whether `startTracing` has installed tracing in this process (and it has not been shut down). */
export function isTracingOn(): boolean {
  return installed !== undefined;
}

/** @internal Set by the tracing SDK's installation, cleared by its shutdown. */
export function setActiveTracer(tracer: Tracer | undefined): void {
  installed = tracer;
}
