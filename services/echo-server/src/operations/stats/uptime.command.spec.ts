import { StatsService } from './stats.service';
import { UptimeCommand, formatUptime } from './uptime.command';

describe('formatUptime', () => {
  it.each([
    { seconds: 0, text: 'up 0d 00:00:00 (0.000 s)' },
    { seconds: 0.0004, text: 'up 0d 00:00:00 (0.000 s)' },
    { seconds: 59.5, text: 'up 0d 00:00:59 (59.500 s)' },
    { seconds: 62.345, text: 'up 0d 00:01:02 (62.345 s)' },
    { seconds: 3600, text: 'up 0d 01:00:00 (3600.000 s)' },
    { seconds: 86_399, text: 'up 0d 23:59:59 (86399.000 s)' },
    { seconds: 86_400, text: 'up 1d 00:00:00 (86400.000 s)' },
    { seconds: 93_784.5, text: 'up 1d 02:03:04 (93784.500 s)' },
    { seconds: 1_077_009.25, text: 'up 12d 11:10:09 (1077009.250 s)' },
  ])('$seconds s → $text', ({ seconds, text }) => {
    expect(formatUptime(seconds)).toBe(text);
  });
});

describe('UptimeCommand', () => {
  it("formats the stats service's uptime", () => {
    const stats = new StatsService();
    jest.spyOn(stats, 'uptimeSeconds').mockReturnValue(62.345);

    expect(new UptimeCommand(stats).execute()).toBe('up 0d 00:01:02 (62.345 s)');
  });
});
