import type { HelloResponse } from '@echo-pair/common';

/** What every mode implements: run against a server that answered `hello`, return the exit code. */
export interface WorkerModeRunner {
  run(hello: HelloResponse): Promise<number>;
  /**
   * On SIGTERM/SIGINT: issue no new call; `run` then resolves once the calls in flight
   * have ended. A mode without it is cut short: its client is closed under it.
   */
  stop?(reason: string): void;
}
