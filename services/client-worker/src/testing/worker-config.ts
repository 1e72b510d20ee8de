import { validateEnvironment } from '@echo-pair/common';
import { ConfigService } from '@nestjs/config';
import { WorkerEnvironment } from '../config/worker-environment';

/** The `WorkerEnvironment` the worker would validate from this environment (defaults for the rest). */
export function workerEnvironment(environment: Record<string, string> = {}): WorkerEnvironment {
  return validateEnvironment(WorkerEnvironment, environment);
}

/** The `ConfigService` the worker would get from this environment (defaults for the rest). */
export function workerConfig(environment: Record<string, string> = {}): ConfigService<WorkerEnvironment, true> {
  return new ConfigService<WorkerEnvironment, true>({ ...workerEnvironment(environment) });
}
