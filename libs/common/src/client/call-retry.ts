import { backoffDelayMs } from './backoff';
import type { ClientCall } from './client-call';
import type { RetryOptions } from './echo-client-options';
import type { Replica } from './replica';
import { RpcClientError } from './rpc-client.error';

export interface RetryDecisions {
  /** Whether a replica other than `failedOn` can take a repeat now, so that it need not wait its backoff. */
  canRepeatAtOnce(failedOn: Replica | undefined): boolean;
  random: () => number;
}

/**
 * A call repeated after retryable failures, up to `policy.attempts` attempts in all: a wrapper
 * around the call's attempts, as undici's `RetryHandler` wraps a dispatch, so the attempts
 * themselves know nothing of repeats. A repeat goes at once to another replica when there is
 * one, else waits its backoff for a connection to come back. A timeout is never repeated (the
 * call's time is spent), nor is a repeat started that could not finish within the call's
 * timeout: the caller gets the real failure instead.
 */
export async function withRetry<T>(call: ClientCall<T>, policy: Required<RetryOptions>, decisions: RetryDecisions): Promise<T> {
  let avoid: Replica | undefined;
  call.startClock();
  for (let failures = 1; ; failures += 1) {
    try {
      return await call.attempt(avoid);
    } catch (error: unknown) {
      avoid = call.failedOn;
      if (failures >= policy.attempts || !(error instanceof RpcClientError) || !error.retryable || error.code === 'TIMEOUT') {
        throw error;
      }
      const waitMs = decisions.canRepeatAtOnce(avoid) ? 0 : backoffDelayMs(failures, policy, decisions.random);
      if (waitMs >= call.remainingMs) {
        throw error;
      }
      if (waitMs > 0) {
        // The global timer (not `timers/promises`), which fake clocks control.
        await new Promise((resolve) => setTimeout(resolve, waitMs));
      }
    }
  }
}
