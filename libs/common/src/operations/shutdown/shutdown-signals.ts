/** What the signal handling needs of the process; `process` itself by default. */
export interface SignalTarget {
  on(signal: NodeJS.Signals, listener: (signal: NodeJS.Signals) => void): unknown;
  off?(signal: NodeJS.Signals, listener: (signal: NodeJS.Signals) => void): unknown;
  exit(code: number): void;
}

export interface ShutdownSignalsOptions {
  /** The first signal: begin a graceful stop (a drain, finishing the calls in flight). */
  onFirst: (signal: NodeJS.Signals) => void;
  /** The exit code of a second signal, which ends the process at once. */
  secondExitCode: (signal: NodeJS.Signals) => number;
  /** Told of the second signal just before the exit, to log it. */
  onSecond?: (signal: NodeJS.Signals) => void;
  signals?: readonly NodeJS.Signals[];
  target?: SignalTarget;
}

/**
 * The stop policy both services share, instead of Nest's shutdown hooks (which close at once,
 * failing every call in flight, and re-raise the signal): the first SIGINT or SIGTERM starts a
 * graceful stop, a second one exits at once. Returns a function that removes the listeners.
 */
export function onShutdownSignals({
  onFirst,
  secondExitCode,
  onSecond,
  signals = ['SIGINT', 'SIGTERM'],
  target = process,
}: ShutdownSignalsOptions): () => void {
  let received = false;
  const listener = (signal: NodeJS.Signals): void => {
    if (received) {
      onSecond?.(signal);
      target.exit(secondExitCode(signal));
      return;
    }
    received = true;
    onFirst(signal);
  };
  signals.forEach((signal) => target.on(signal, listener));
  return () => signals.forEach((signal) => target.off?.(signal, listener));
}
