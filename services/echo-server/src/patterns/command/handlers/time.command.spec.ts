import { TimeCommand } from './time.command';

const ISO_UTC = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3}Z$/;

describe('TimeCommand', () => {
  const command = new TimeCommand();

  afterEach(() => {
    jest.useRealTimers();
  });

  it('returns the current time as ISO-8601 in UTC', () => {
    const before = Date.now();
    const output = command.execute();
    const after = Date.now();

    expect(output).toMatch(ISO_UTC);
    const at = Date.parse(output);
    expect(at).toBeGreaterThanOrEqual(before);
    expect(at).toBeLessThanOrEqual(after);
  });

  it('reads the clock on every call', () => {
    jest.useFakeTimers({ now: new Date('2031-02-03T04:05:06.789Z') });
    expect(command.execute()).toBe('2031-02-03T04:05:06.789Z');
    jest.setSystemTime(new Date('2031-02-03T04:05:07.000Z'));
    expect(command.execute()).toBe('2031-02-03T04:05:07.000Z');
  });
});
