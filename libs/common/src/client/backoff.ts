import type { BackoffOptions } from './echo-client-options';

/**
 * Milliseconds to wait after the `failures`-th failure (1-based): the initial delay
 * multiplied by `factor` per earlier failure, capped at `maxDelayMs`, with "equal
 * jitter" (between half of the step and all of it) so that clients dropped together
 * do not come back in lockstep.
 */
export function backoffDelayMs(failures: number, options: Required<BackoffOptions>, random: () => number = Math.random): number {
  const { initialDelayMs, maxDelayMs, factor } = options;
  const step = Math.min(maxDelayMs, initialDelayMs * factor ** Math.max(0, failures - 1));
  return Math.round(step / 2 + (random() * step) / 2);
}
