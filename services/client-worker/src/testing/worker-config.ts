import { validateEnvironment } from '@echo-pair/common';
import { ConfigService } from '@nestjs/config';
import { WorkerEnvironment } from '../config/worker-environment';

/** The `ConfigService` the worker would get from this environment (defaults for the rest). */
export function workerConfig(environment: Record<string, string> = {}): ConfigService<WorkerEnvironment, true> {
  return new ConfigService<WorkerEnvironment, true>({ ...validateEnvironment(WorkerEnvironment, environment) });
}
