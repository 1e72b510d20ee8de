import { IsoClock } from './iso-clock';

describe('IsoClock', () => {
  afterEach(() => jest.restoreAllMocks());

  it('gives what new Date().toISOString() gives at the same millisecond', () => {
    const clock = new IsoClock();
    for (const ms of [0, 1, 999, 1_000, 1_732_960_000_123, 1_732_960_000_124, 1_732_960_000_123, 253_402_300_799_999]) {
      jest.spyOn(Date, 'now').mockReturnValue(ms);
      expect(clock.now()).toBe(new Date(ms).toISOString());
    }
  });

  it('formats once per millisecond', () => {
    const clock = new IsoClock();
    const now = jest.spyOn(Date, 'now').mockReturnValue(1_732_960_000_000);
    const format = jest.spyOn(Date.prototype, 'toISOString');
    clock.now();
    clock.now();
    clock.now();
    expect(format).toHaveBeenCalledTimes(1);
    now.mockReturnValue(1_732_960_000_001);
    expect(clock.now()).toBe('2024-11-30T09:46:40.001Z');
    expect(format).toHaveBeenCalledTimes(2);
  });

  it('follows the real clock', () => {
    const clock = new IsoClock();
    const before = Date.now();
    const stamp = Date.parse(clock.now());
    expect(stamp).toBeGreaterThanOrEqual(before);
    expect(stamp).toBeLessThanOrEqual(Date.now());
  });
});
