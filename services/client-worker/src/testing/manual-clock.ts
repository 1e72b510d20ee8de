import { performance } from 'node:perf_hooks';

/**
 * Time that passes only when a test says so. The worker reads time with
 * `performance.now()` from node:perf_hooks, which Jest's fake timers do not reach
 * (they replace the global `performance`, not that module's); `install()` makes
 * it read this clock. `jest.restoreAllMocks()` undoes that.
 */
export class ManualClock {
  constructor(private nowMs = 1_000) {}

  now(): number {
    return this.nowMs;
  }

  advance(ms: number): void {
    this.nowMs += ms;
  }

  install(): this {
    jest.spyOn(performance, 'now').mockImplementation(() => this.nowMs);
    return this;
  }
}
