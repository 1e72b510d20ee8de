import type { ServerStats } from '@echo-pair/common';
import { NO_MESSAGES } from '../../testing/no-messages';
import { StatsService } from './stats.service';
import { StatsCommand } from './stats.command';

describe('StatsCommand', () => {
  let stats: StatsService;
  let command: StatsCommand;

  beforeEach(() => {
    stats = new StatsService();
    jest.spyOn(stats, 'uptimeSeconds').mockReturnValue(12.3456);
    command = new StatsCommand(stats);
  });

  it('outputs the snapshot of a fresh server as JSON', () => {
    const output = command.execute();

    expect(output).toBe(JSON.stringify(stats.snapshot()));
    expect(JSON.parse(output)).toEqual<ServerStats>({
      uptimeSeconds: 12.346,
      connections: { open: 0, total: 0, rejected: 0, evicted: 0 },
      messages: { ...NO_MESSAGES },
      events: { note: 0 },
      commands: {},
      errors: { total: 0, byCode: {} },
      rejections: { total: 0, byReason: {} },
      transports: {
        tcp: { connections: { open: 0, total: 0 }, messages: 0, errors: 0 },
        text: { connections: { open: 0, total: 0 }, messages: 0, errors: 0 },
        udp: { connections: { open: 0, total: 0 }, messages: 0, errors: 0 },
      },
      chat: { rooms: 0, members: 0, deliveries: 0, cutOff: 0 },
      datagrams: { received: 0, dropped: 0, droppedByReason: {}, repliesTooLarge: 0 },
    });
  });

  it('reflects every counter recorded so far', () => {
    stats.connectionOpened('tcp');
    stats.connectionOpened('tcp');
    stats.connectionClosed('tcp');
    stats.recordMessage('echo', 'tcp');
    stats.recordMessage('command', 'tcp');
    stats.recordEvent('note', 'tcp');
    stats.recordCommand('upper');
    stats.recordError('UNKNOWN_COMMAND', 'tcp');

    const output = command.execute();

    expect(JSON.parse(output)).toEqual(stats.snapshot());
    expect(JSON.parse(output)).toEqual<ServerStats>({
      uptimeSeconds: 12.346,
      connections: { open: 1, total: 2, rejected: 0, evicted: 0 },
      messages: { ...NO_MESSAGES, echo: 1, command: 1 },
      events: { note: 1 },
      commands: { upper: 1 },
      errors: { total: 1, byCode: { UNKNOWN_COMMAND: 1 } },
      rejections: { total: 0, byReason: {} },
      transports: {
        tcp: { connections: { open: 1, total: 2 }, messages: 3, errors: 1 },
        text: { connections: { open: 0, total: 0 }, messages: 0, errors: 0 },
        udp: { connections: { open: 0, total: 0 }, messages: 0, errors: 0 },
      },
      chat: { rooms: 0, members: 0, deliveries: 0, cutOff: 0 },
      datagrams: { received: 0, dropped: 0, droppedByReason: {}, repliesTooLarge: 0 },
    });
  });
});
