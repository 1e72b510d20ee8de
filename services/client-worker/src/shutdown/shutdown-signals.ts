import { onShutdownSignals } from '@echo-pair/common';
import { constants } from 'node:os';

/** Added to CALL_TIMEOUT_MS to bound the wait for the calls in flight after a signal. */
export const SHUTDOWN_MARGIN_MS = 2_000;

export type RunOutcome = { code: number; stopped?: undefined } | { code?: undefined; stopped: string };

/**
 * The worker's handling of SIGINT/SIGTERM. The first signal asks the mode to stop and starts
 * a bound on how long it may take; a second one exits at once with 128 + the signal's number
 * (the policy of `onShutdownSignals`, shared with the server).
 */
export class ShutdownSignals {
  private received?: NodeJS.Signals;
  private firstListener?: (signal: NodeJS.Signals) => void;
  private readonly stopListening: () => void;
  private readonly waiters = new Set<(signal: NodeJS.Signals) => void>();
  private timer?: NodeJS.Timeout;

  constructor(
    /** How long a mode may take to stop after the first signal. */
    private readonly boundMs: number,
    exit: (code: number) => void = (code) => process.exit(code),
  ) {
    this.stopListening = onShutdownSignals({
      onFirst: (signal) => this.first(signal),
      secondExitCode: (signal) => 128 + (constants.signals[signal] ?? 0),
      target: { on: (signal, listener) => process.on(signal, listener), off: (signal, listener) => process.off(signal, listener), exit },
    });
  }

  get signal(): NodeJS.Signals | undefined {
    return this.received;
  }

  onFirst(listener: (signal: NodeJS.Signals) => void): void {
    this.firstListener = listener;
  }

  /**
   * The run's exit code; or, after a signal, `stopped` with why it was not awaited: at once
   * for a mode that cannot stop (`graceful` false), else once the bound has passed.
   */
  race(work: Promise<number>, graceful: boolean): Promise<RunOutcome> {
    work.catch(() => undefined); // a run left behind must not end in an unhandled rejection
    const stopped = new Promise<RunOutcome>((resolve) => {
      this.waiters.add((signal) => {
        if (!graceful) {
          resolve({ stopped: `${signal} received; the run was cut short` });
          return;
        }
        this.timer = setTimeout(
          () => resolve({ stopped: `${signal} received, and the calls in flight did not end within ${this.boundMs} ms` }),
          this.boundMs,
        );
      });
    });
    return Promise.race([work.then((code) => ({ code })), stopped]);
  }

  dispose(): void {
    this.stopListening();
    clearTimeout(this.timer);
    this.waiters.clear();
  }

  private first(signal: NodeJS.Signals): void {
    this.received = signal;
    this.firstListener?.(signal);
    this.waiters.forEach((waiter) => waiter(signal));
  }
}
