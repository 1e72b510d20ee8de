/** Tracing started in this process. */
export interface Tracing {
  /** Exports the spans that have ended and not been exported yet. */
  forceFlush(): Promise<void>;
  /** Exports what is pending, then turns tracing off (the OpenTelemetry globals are unregistered). Idempotent. */
  shutdown(): Promise<void>;
}
