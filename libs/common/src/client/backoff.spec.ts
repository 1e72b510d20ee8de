import { backoffDelayMs } from './backoff';

describe('backoffDelayMs', () => {
  const options = { initialDelayMs: 100, maxDelayMs: 1_000, factor: 3 };
  const noJitter = (): number => 1;

  it('multiplies the step by the factor after each failure, up to the cap', () => {
    expect([1, 2, 3, 4, 50].map((failures) => backoffDelayMs(failures, options, noJitter))).toEqual([100, 300, 900, 1_000, 1_000]);
  });

  it('keeps the jittered wait between half of the step and all of it', () => {
    expect(backoffDelayMs(2, options, () => 0)).toBe(150);
    expect(backoffDelayMs(2, options, () => 0.5)).toBe(225);
    for (let i = 0; i < 100; i += 1) {
      const wait = backoffDelayMs(3, options);
      expect(wait).toBeGreaterThanOrEqual(450);
      expect(wait).toBeLessThanOrEqual(900);
    }
  });

  it('does not wait when the initial delay is zero', () => {
    expect(backoffDelayMs(5, { ...options, initialDelayMs: 0 })).toBe(0);
  });
});
