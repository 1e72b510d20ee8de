import { collectDefaultMetrics, Registry } from 'prom-client';

let processMetrics: Registry | undefined;

/**
 * The process's default metrics (`process_*`, `nodejs_*`), made once per process:
 * `collectDefaultMetrics` starts a GC observer and an event-loop-delay monitor that
 * nothing stops, so one per application instance would pile up wherever several
 * servers start in one process (the tests).
 */
function processMetricsRegistry(): Registry {
  if (processMetrics === undefined) {
    processMetrics = new Registry();
    collectDefaultMetrics({ register: processMetrics });
  }
  return processMetrics;
}

/**
 * A registry of one application instance (a server, a worker): the process's default metrics,
 * and the instance's own, registered on it. Never prom-client's global
 * registry, where a second server in the same process would collide.
 */
export function createMetricsRegistry(): Registry {
  // A new registry holding the same metric objects: a registry keeps references and reads them at scrape time.
  return Registry.merge([processMetricsRegistry()]);
}
