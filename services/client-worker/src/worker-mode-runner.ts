import type { HelloResponse } from '@echo-pair/common';

/** What every mode implements: run against a server that answered `hello`, return the exit code. */
export interface WorkerModeRunner {
  run(hello: HelloResponse): Promise<number>;
}
