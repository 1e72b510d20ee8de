import { Logger } from '@nestjs/common';
import { describeError } from '@echo-pair/common';
import type { DrainResult } from './drain.service';

/** What the signal handlers need of the process; `process` itself in `main.ts`. */
export interface SignalTarget {
  on(signal: NodeJS.Signals, listener: (signal: NodeJS.Signals) => void): unknown;
  exit(code: number): void;
}

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
  let draining = false;
  const onSignal = (signal: NodeJS.Signals): void => {
    if (draining) {
      logger.warn(`${signal} again during the drain: exiting at once (exit code 1)`);
      target.exit(1);
      return;
    }
    draining = true;
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
  };
  signals.forEach((signal) => target.on(signal, onSignal));
}
