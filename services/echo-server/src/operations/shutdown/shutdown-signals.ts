import { Logger } from '@nestjs/common';
import { describeError, onShutdownSignals, type SignalTarget } from '@echo-pair/common';
import type { DrainResult } from './drain.service';

export type { SignalTarget };

export interface DrainOnSignalsOptions {
  signals?: readonly NodeJS.Signals[];
  target?: SignalTarget;
}

/**
 * Replaces Nest's shutdown hooks, which close at once (failing every request in
 * flight) and re-raise the signal (exit 143). The first signal drains, then exits
 * 0, or 1 if the drain deadline passed with requests open; a second signal during
 * the drain exits 1 at once.
 */
export function drainOnSignals(
  drain: () => Promise<DrainResult>,
  { signals = ['SIGINT', 'SIGTERM'], target = process }: DrainOnSignalsOptions = {},
): void {
  const logger = new Logger('Shutdown');
  onShutdownSignals({
    signals,
    target,
    onFirst: (signal) => {
      logger.log(`${signal} received: shutting down (${signal} again exits at once)`);
      drain().then(
        ({ drained }) => {
          logger.log(`exiting with code ${drained ? 0 : 1}`);
          target.exit(drained ? 0 : 1);
        },
        (error: unknown) => {
          logger.error(`shutdown failed: ${describeError(error)}; exiting with code 1`);
          target.exit(1);
        },
      );
    },
    onSecond: (signal) => logger.warn(`${signal} again during the drain: exiting at once (exit code 1)`),
    secondExitCode: () => 1,
  });
}
