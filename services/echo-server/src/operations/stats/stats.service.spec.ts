import type { ServerStats } from '@echo-pair/common';
import { NO_MESSAGES } from '../../testing/no-messages';
import { StatsService } from './stats.service';

const EMPTY: Omit<ServerStats, 'uptimeSeconds'> = {
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
};

describe('StatsService', () => {
  let stats: StatsService;

  beforeEach(() => {
    stats = new StatsService();
  });

  afterEach(() => {
    jest.restoreAllMocks();
  });

  it('starts with every counter at zero', () => {
    expect(stats.snapshot()).toEqual({ ...EMPTY, uptimeSeconds: expect.any(Number) as unknown });
    expect(stats.openConnections).toBe(0);
  });

  it('numbers connections and tracks how many are open', () => {
    expect(stats.connectionOpened('tcp')).toBe(1);
    expect(stats.connectionOpened('tcp')).toBe(2);
    expect(stats.openConnections).toBe(2);

    stats.connectionClosed('tcp');
    expect(stats.openConnections).toBe(1);
    expect(stats.connectionOpened('tcp')).toBe(3);

    expect(stats.snapshot().connections).toEqual({ open: 2, total: 3, rejected: 0, evicted: 0 });
  });

  it('counts messages and events per pattern', () => {
    stats.recordMessage('hello', 'tcp');
    stats.recordMessage('echo', 'tcp');
    stats.recordMessage('echo', 'tcp');
    stats.recordMessage('command', 'tcp');
    stats.recordEvent('note', 'tcp');
    stats.recordEvent('note', 'tcp');

    const snapshot = stats.snapshot();
    expect(snapshot.messages).toEqual({ ...NO_MESSAGES, hello: 1, echo: 2, command: 1 });
    expect(snapshot.events).toEqual({ note: 2 });
  });

  it('counts commands per name', () => {
    stats.recordCommand('upper');
    stats.recordCommand('my-command');
    stats.recordCommand('upper');

    expect(stats.snapshot().commands).toEqual({ upper: 2, 'my-command': 1 });
  });

  it('counts errors in total and per code', () => {
    stats.recordError('VALIDATION_FAILED', 'tcp');
    stats.recordError('UNKNOWN_COMMAND', 'tcp');
    stats.recordError('VALIDATION_FAILED', 'tcp');

    expect(stats.snapshot().errors).toEqual({ total: 3, byCode: { VALIDATION_FAILED: 2, UNKNOWN_COMMAND: 1 } });
  });

  it('counts rejected connections in total and per reason', () => {
    stats.recordRejection('BAD_HEADER');
    stats.recordRejection('FRAME_TOO_LONG');
    stats.recordRejection('BAD_HEADER');

    expect(stats.snapshot().rejections).toEqual({ total: 3, byReason: { BAD_HEADER: 2, FRAME_TOO_LONG: 1 } });
  });

  it('measures uptime from its creation, rounded to milliseconds in the snapshot', () => {
    const now = jest.spyOn(performance, 'now').mockReturnValue(1_000);
    const timed = new StatsService();

    now.mockReturnValue(63_345.4321);
    expect(timed.uptimeSeconds()).toBeCloseTo(62.3454321, 9);
    expect(timed.snapshot().uptimeSeconds).toBe(62.345);

    now.mockReturnValue(1_000);
    expect(timed.snapshot().uptimeSeconds).toBe(0);
  });

  it("reads the UDP door's kernel drops where the door says, when asked, and keeps them out of the snapshot", () => {
    expect(stats.udpKernelDrops()).toBeUndefined();
    const reader = jest.fn(() => 3);
    stats.readUdpKernelDropsWith(reader);
    expect(reader).not.toHaveBeenCalled();
    expect(stats.udpKernelDrops()).toBe(3);
    expect(Object.keys(stats.snapshot().datagrams)).toEqual(['received', 'dropped', 'repliesTooLarge', 'droppedByReason']);
  });

  it('hands out a copy that changes neither the service nor later snapshots', () => {
    stats.recordMessage('echo', 'tcp');
    stats.recordCommand('upper');
    stats.recordError('INTERNAL_ERROR', 'tcp');
    stats.connectionOpened('tcp');
    stats.recordRejection('BAD_HEADER');

    const first = stats.snapshot();
    first.connections.open = 99;
    first.messages.echo = 99;
    first.events.note = 99;
    first.commands.upper = 99;
    first.commands.injected = 1;
    first.errors.total = 99;
    first.errors.byCode.INTERNAL_ERROR = 99;
    first.rejections.byReason.BAD_HEADER = 99;

    const second = stats.snapshot();
    expect(second).toEqual({
      uptimeSeconds: expect.any(Number) as unknown,
      connections: { open: 1, total: 1, rejected: 0, evicted: 0 },
      messages: { ...NO_MESSAGES, echo: 1 },
      events: { note: 0 },
      commands: { upper: 1 },
      errors: { total: 1, byCode: { INTERNAL_ERROR: 1 } },
      rejections: { total: 1, byReason: { BAD_HEADER: 1 } },
      transports: { ...EMPTY.transports, tcp: { connections: { open: 1, total: 1 }, messages: 1, errors: 1 } },
      chat: EMPTY.chat,
      datagrams: EMPTY.datagrams,
    });
    expect(stats.openConnections).toBe(1);
  });

  it('keeps earlier snapshots unchanged as counters move on', () => {
    const before = stats.snapshot();
    stats.recordMessage('hello', 'tcp');
    stats.recordCommand('time');
    stats.recordError('UNKNOWN_COMMAND', 'tcp');

    expect(before).toEqual({ ...EMPTY, uptimeSeconds: before.uptimeSeconds });
  });

  it('counts dropped datagrams in total and per reason, in a snapshot of its own', () => {
    stats.recordDatagram();
    stats.recordDatagram();
    stats.recordDatagram();
    stats.recordDatagramDropped('INVALID_UTF8');
    stats.recordDatagramDropped('REPLY_OVER_ALLOWANCE');
    stats.recordDatagramDropped('INVALID_UTF8');

    const first = stats.snapshot();
    expect(first.datagrams).toEqual({
      received: 3,
      dropped: 3,
      droppedByReason: { INVALID_UTF8: 2, REPLY_OVER_ALLOWANCE: 1 },
      repliesTooLarge: 0,
    });
    first.datagrams.droppedByReason.EMPTY = 99;
    expect(stats.snapshot().datagrams.droppedByReason).toEqual({ INVALID_UTF8: 2, REPLY_OVER_ALLOWANCE: 1 });
  });
});
