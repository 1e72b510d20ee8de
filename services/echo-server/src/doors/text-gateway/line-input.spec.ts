import { LineInput, type LineReader, type QueuedInput } from './line-input';

/** A reader that takes `room` lines at a time and records what happens. */
function reader(room = 64): LineReader & { lines: string[]; ended: number; timedOut: number; roomLeft: number; quietNow: boolean } {
  const state = {
    lines: [] as string[],
    ended: 0,
    timedOut: 0,
    roomLeft: room,
    quietNow: true,
    encodingNow: () => 'utf-8' as const,
    room: () => state.roomLeft,
    enqueue: (input: QueuedInput) => {
      state.roomLeft -= 1;
      state.lines.push(input.kind === 'line' ? input.bytes.toString() : input.kind);
    },
    quiet: () => state.quietNow,
    lineEnded: () => {
      state.ended += 1;
    },
    lineTimedOut: () => {
      state.timedOut += 1;
    },
  };
  return state;
}

describe('LineInput', () => {
  beforeEach(() => jest.useFakeTimers());
  afterEach(() => jest.useRealTimers());

  const settings = { maxLineBytes: 1024, idleFlushMs: 30, lineTimeoutMs: 1000 };

  it('gives a dripped line one deadline from its first byte', () => {
    const owner = reader();
    const input = new LineInput(settings, owner);
    // A byte every 20 ms: never a pause long enough for the idle flush, so only the deadline ends it.
    let timedOutAt: number | undefined;
    for (let elapsed = 0; elapsed < 1500 && timedOutAt === undefined; elapsed += 20) {
      input.push(Buffer.from('x'));
      jest.advanceTimersByTime(20);
      timedOutAt = owner.timedOut > 0 ? elapsed + 20 : undefined;
    }
    expect(timedOutAt).toBe(1000);
    expect(owner.lines).toEqual([]);
    input.close();
  });

  it('starts a new deadline for each line, and none once a line is complete', () => {
    const owner = reader();
    const input = new LineInput(settings, owner);
    owner.quietNow = false; // lines being handled: no idle flush
    input.push(Buffer.from('one'));
    jest.advanceTimersByTime(900);
    input.push(Buffer.from('\ntwo'));
    jest.advanceTimersByTime(900);
    expect(owner.timedOut).toBe(0);
    input.push(Buffer.from('\n'));
    jest.advanceTimersByTime(5000);
    expect(owner.timedOut).toBe(0);
    expect(owner.lines).toEqual(['one', 'two']);
    expect(owner.ended).toBe(2);
    input.close();
  });

  it('times out a connection that sends an over-long line and keeps the rest of it coming', () => {
    const owner = reader();
    const input = new LineInput({ ...settings, maxLineBytes: 64 }, owner);
    input.push(Buffer.alloc(100, 'a'));
    expect(owner.lines).toEqual(['too-long']);
    for (let index = 0; index < 20; index += 1) {
      input.push(Buffer.alloc(100, 'a'));
      jest.advanceTimersByTime(50);
    }
    expect(owner.timedOut).toBe(1);
    input.close();
  });

  it('takes a partial line as whole once the peer pauses, and counts it as activity', () => {
    const owner = reader();
    const input = new LineInput(settings, owner);
    input.push(Buffer.from('hello'));
    jest.advanceTimersByTime(30);
    jest.runOnlyPendingTimers(); // the setImmediate after the flush delay
    expect(owner.lines).toEqual(['hello']);
    expect(owner.ended).toBe(1);
    jest.advanceTimersByTime(5000);
    expect(owner.timedOut).toBe(0);
    input.close();
  });

  it('splits a chunk only as far as the reader has room, and runs no deadline while the rest waits', () => {
    const owner = reader(2);
    const input = new LineInput(settings, owner);
    input.push(Buffer.from('a\nb\nc\nd\npartial'));
    expect(owner.lines).toEqual(['a', 'b']);
    expect(input.backlogged).toBe(true);
    jest.advanceTimersByTime(5000);
    expect(owner.timedOut).toBe(0);
    owner.roomLeft = 10;
    owner.quietNow = false; // lines being handled: no idle flush, so the deadline decides
    input.split();
    expect(owner.lines).toEqual(['a', 'b', 'c', 'd']);
    expect(input.backlogged).toBe(false);
    jest.advanceTimersByTime(999);
    expect(owner.timedOut).toBe(0);
    jest.advanceTimersByTime(1);
    expect(owner.timedOut).toBe(1);
    input.close();
  });

  it('never times out with lineTimeoutMs 0', () => {
    const owner = reader();
    const input = new LineInput({ ...settings, lineTimeoutMs: 0 }, owner);
    owner.quietNow = false;
    input.push(Buffer.from('x'));
    jest.advanceTimersByTime(3_600_000);
    expect(owner.timedOut).toBe(0);
    input.close();
  });
});

describe('LineInput with a reader that calls back while it takes a line', () => {
  it('queues the lines of a chunk in order, whatever the reader does when it takes one', () => {
    const lines = Array.from({ length: 500 }, (_, index) => `line ${index}`);
    const taken: string[] = [];
    let queued = 0;
    // Like a text connection whose replies back up: taking a line ends its handling at once and splits again.
    const input: LineInput = new LineInput(
      { maxLineBytes: 1024, idleFlushMs: 30, lineTimeoutMs: 0 },
      {
        encodingNow: () => 'utf-8',
        room: () => 8 - queued,
        enqueue: (event) => {
          queued += 1;
          taken.push(event.kind === 'line' ? event.bytes.toString() : event.kind);
          queued -= 1;
          input.split();
        },
        quiet: () => false,
        lineEnded: () => undefined,
        lineTimedOut: () => undefined,
      },
    );
    input.push(Buffer.from(lines.join('\n') + '\n'));
    expect(taken).toEqual(lines);
    input.close();
  });
});
