import { FULL_LINES_PER_INTERVAL, RefusalSummary } from './refusal-summary';

describe('RefusalSummary', () => {
  beforeEach(() => jest.useFakeTimers());
  afterEach(() => jest.useRealTimers());

  it('logs the first events of an interval at once, in full, and the rest of it as one line', () => {
    const log = jest.fn();
    const summary = new RefusalSummary(10_000, log);
    for (let index = 0; index < FULL_LINES_PER_INTERVAL; index += 1) {
      summary.record('refused', '10.0.0.1', `in full ${index}`);
    }
    for (let index = 0; index < 3000; index += 1) {
      summary.record(index % 3 === 0 ? 'rejected FRAME_TOO_LONG' : 'refused', index % 10 === 0 ? '10.0.0.2' : '10.0.0.1', 'never logged');
    }
    expect(log.mock.calls).toEqual(Array.from({ length: FULL_LINES_PER_INTERVAL }, (_, index) => [`in full ${index}`]));
    jest.advanceTimersByTime(10_000);
    expect(log).toHaveBeenCalledTimes(FULL_LINES_PER_INTERVAL + 1);
    expect(log).toHaveBeenLastCalledWith(
      '3000 more in the last 10 s: 2000 refused, 1000 rejected FRAME_TOO_LONG; from 2 addresses, top: 10.0.0.1 (2700), 10.0.0.2 (300)',
    );
  });

  it('writes at most its full lines and one summary per interval while events go on, and logs at once after a quiet interval', () => {
    const log = jest.fn();
    const summary = new RefusalSummary(1000, log);
    for (let second = 0; second < 5; second += 1) {
      for (let index = 0; index < 100; index += 1) summary.record('refused', 'a', 'x');
      jest.advanceTimersByTime(1000);
    }
    expect(log).toHaveBeenCalledTimes(5 * (FULL_LINES_PER_INTERVAL + 1));
    jest.advanceTimersByTime(1000); // a quiet interval: nothing to say, the window closes
    expect(log).toHaveBeenCalledTimes(5 * (FULL_LINES_PER_INTERVAL + 1));
    summary.record('refused', 'b', 'after the quiet');
    expect(log).toHaveBeenLastCalledWith('after the quiet');
  });

  it('bounds the addresses it keeps and names only the top five', () => {
    const log = jest.fn();
    const summary = new RefusalSummary(1000, log);
    for (let index = 0; index < FULL_LINES_PER_INTERVAL; index += 1) summary.record('refused', 'first', 'in full');
    for (let index = 0; index < 20_000; index += 1) summary.record('refused', `10.0.${index >> 8}.${index & 255}`, 'x');
    summary.flush();
    const [line] = (log.mock.calls as [string][]).at(-1)!;
    expect(line).toMatch(/^20000 more in the last 1 s: 20000 refused; from 10000\+ addresses, top: /);
    expect(line.match(/\(\d+\)/g)).toHaveLength(5);
  });

  it('logs nothing more on flush when the interval counted nothing', () => {
    const log = jest.fn();
    const summary = new RefusalSummary(1000, log);
    summary.record('refused', 'a', 'only');
    summary.flush();
    expect(log).toHaveBeenCalledTimes(1);
  });
});
