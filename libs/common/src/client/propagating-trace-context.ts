import type { ClientProxy } from '@nestjs/microservices';
import { injectTraceContext } from '../transport/trace-context/trace-metadata';

/**
 * With tracing on, each packet of `proxy` carries the trace context of its call (its `metadata`);
 * off, the hook returns at once. A stand-in without Nest's dispatch hook (a test's) is left as it is.
 */
export function propagatingTraceContext<T extends ClientProxy>(proxy: T): T {
  if (typeof (proxy as Partial<ClientProxy>).setOnDispatchHook === 'function') {
    proxy.setOnDispatchHook(injectTraceContext);
  }
  return proxy;
}
