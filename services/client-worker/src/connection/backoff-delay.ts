export interface BackoffOptions {
  /** Wait after the first failure. */
  baseMs: number;
  /** No wait is longer than this. */
  maxMs: number;
}

/**
 * Milliseconds to wait after the `failures`-th failed attempt (1-based): the base
 * doubled per earlier failure, capped, with "equal jitter" (between half of it and
 * all of it) so that workers started together do not retry in lockstep.
 */
export function backoffDelayMs(failures: number, { baseMs, maxMs }: BackoffOptions, random: () => number = Math.random): number {
  const capped = Math.min(maxMs, baseMs * 2 ** Math.max(0, failures - 1));
  return Math.round(capped / 2 + (random() * capped) / 2);
}
