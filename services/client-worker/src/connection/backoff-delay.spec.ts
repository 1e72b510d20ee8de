import { backoffDelayMs } from './backoff-delay';

describe('backoffDelayMs', () => {
  const options = { baseMs: 200, maxMs: 3000 };
  const noJitter = (): number => 1;

  it('doubles the wait after each failure', () => {
    expect([1, 2, 3, 4].map((failures) => backoffDelayMs(failures, options, noJitter))).toEqual([200, 400, 800, 1600]);
  });

  it('never waits longer than the cap', () => {
    expect(backoffDelayMs(5, options, noJitter)).toBe(3000);
    expect(backoffDelayMs(1000, options, noJitter)).toBe(3000);
  });

  it('keeps the jittered wait between half of the step and all of it', () => {
    expect(backoffDelayMs(2, options, () => 0)).toBe(200);
    expect(backoffDelayMs(2, options, () => 0.5)).toBe(300);
    for (let i = 0; i < 100; i++) {
      const wait = backoffDelayMs(3, options);
      expect(wait).toBeGreaterThanOrEqual(400);
      expect(wait).toBeLessThanOrEqual(800);
    }
  });

  it('does not wait when the base is zero', () => {
    expect(backoffDelayMs(3, { baseMs: 0, maxMs: 3000 })).toBe(0);
  });
});
