import { validateEnvironment } from '@echo-pair/common';
import { WorkerEnvironment } from '../config/worker-environment';

/** The `WorkerEnvironment` the worker would validate from this environment (defaults for the rest). */
export function workerEnvironment(environment: Record<string, string> = {}): WorkerEnvironment {
  return validateEnvironment(WorkerEnvironment, environment);
}
