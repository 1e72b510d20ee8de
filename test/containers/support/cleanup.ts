import { describeError } from '@echo-pair/common';
import { withTimeout } from './bounded';

/** Longest wait for one cleanup step (stopping a container, downing a compose project). */
const STEP_TIMEOUT_MS = 60_000;

/**
 * What a suite started, stopped newest first in its `afterAll`, which Jest runs
 * also when a hook or test failed. Each step is registered as soon as there is
 * something to stop, and one failing step does not keep the others from running.
 */
export class Cleanup {
  private readonly steps: Array<{ what: string; stop: () => Promise<unknown> }> = [];

  add(what: string, stop: () => Promise<unknown>): void {
    this.steps.push({ what, stop });
  }

  async run(): Promise<void> {
    const failures: string[] = [];
    for (const step of this.steps.splice(0).reverse()) {
      try {
        await withTimeout(step.stop(), STEP_TIMEOUT_MS, `stopping ${step.what}`);
      } catch (error) {
        failures.push(`${step.what}: ${describeError(error)}`);
      }
    }
    if (failures.length > 0) {
      throw new Error(`cleanup failed for ${failures.length} step(s):\n${failures.join('\n')}`);
    }
  }
}
