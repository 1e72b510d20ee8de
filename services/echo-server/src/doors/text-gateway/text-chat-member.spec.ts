import { EventEmitter } from 'node:events';
import type { Socket } from 'node:net';
import { BACKED_UP_BYTES, LINE_OVERHEAD_BYTES, READING_WINDOW_MS, TextChatMember, type ChatConnection } from './text-chat-member';

const KIB = 1024;
const STALL_MS = 10_000;
const MAX_BACKLOG = 1024 * KIB;

/**
 * A socket as the member sees it: `writableLength` is what the kernel has not taken. Each write
 * waits until `take` hands its bytes to the kernel (in order), which runs its callback.
 */
class FakeSocket extends EventEmitter {
  writableLength = 0;
  destroyed = false;
  writableEnded = false;
  private readonly pending: Array<{ bytes: number; taken: (error?: Error | null) => void }> = [];

  write(bytes: number, taken: (error?: Error | null) => void): void {
    this.writableLength += bytes;
    this.pending.push({ bytes, taken });
  }

  /** The kernel takes the oldest writes, `count` of them (all by default). */
  take(count = this.pending.length): void {
    for (const { bytes, taken } of this.pending.splice(0, count)) {
      this.writableLength -= bytes;
      taken();
    }
  }

  destroy(): void {
    this.destroyed = true;
    this.pending.splice(0).forEach(({ taken }) => taken(new Error('destroyed')));
    this.emit('close');
  }
}

describe('TextChatMember', () => {
  let socket: FakeSocket;
  let connection: { [K in keyof ChatConnection]: jest.Mock };
  let chat: { released: jest.Mock; stalledOut: jest.Mock };
  let member: TextChatMember;

  function setUp(settings = { chatStallMs: STALL_MS, chatMaxBacklogBytes: MAX_BACKLOG }): void {
    socket = new FakeSocket();
    connection = {
      // The line's length stands for its bytes; a line is 1 KiB unless it says otherwise.
      write: jest.fn((line: string, taken: () => void) => socket.write(line.length, taken)),
      cutOff: jest.fn(() => socket.destroy()),
    };
    chat = { released: jest.fn(), stalledOut: jest.fn() };
    member = new TextChatMember(7, socket as unknown as Socket, settings, chat, connection);
  }

  /** Delivers `count` lines of 1 KiB; returns the last delivery. */
  function deliver(count: number): string {
    let delivery = '';
    for (let index = 0; index < count; index++) {
      delivery = member.deliver('x'.repeat(KIB));
    }
    return delivery;
  }

  /** Backed up: more than BACKED_UP_BYTES unread. */
  const backUp = (): string => deliver(BACKED_UP_BYTES / KIB + 1);

  beforeEach(() => {
    jest.useFakeTimers();
    setUp();
  });

  afterEach(() => jest.useRealTimers());

  it('is a guest until it takes a nick', () => {
    expect(member.id).toBe(7);
    expect(member.nick).toBe('guest-7');
  });

  it('does not hold the room back up to BACKED_UP_BYTES unread', () => {
    expect(deliver(BACKED_UP_BYTES / KIB)).toBe('delivered');

    expect(socket.writableLength).toBe(BACKED_UP_BYTES);
    expect(member.holdsBack).toBe(false);
  });

  it('holds the room back once backed up while it reads, and releases it once the kernel has taken its backlog down', () => {
    expect(backUp()).toBe('delivered');
    expect(deliver(1)).toBe('delivered');
    expect(member.holdsBack).toBe(true);

    socket.take(1); // still above the bound: it reads, so it still holds
    expect(member.holdsBack).toBe(true);
    expect(chat.released).not.toHaveBeenCalled();

    socket.take(1); // BACKED_UP_BYTES left: no longer backed up
    expect(socket.writableLength).toBe(BACKED_UP_BYTES);
    expect(member.holdsBack).toBe(false);
    expect(chat.released).toHaveBeenCalledTimes(1);
    expect(chat.released).toHaveBeenCalledWith(member);
  });

  it('keeps holding the room back as long as it reads within READING_WINDOW_MS', () => {
    backUp();
    deliver(4);
    for (let step = 0; step < 20; step++) {
      jest.advanceTimersByTime(READING_WINDOW_MS / 2);
      socket.take(1);
      deliver(1); // a sender that got through, say
    }

    expect(member.holdsBack).toBe(true);
    expect(chat.released).not.toHaveBeenCalled();
  });

  it('stops holding the room back once it has read nothing for READING_WINDOW_MS, and goes on taking lines', () => {
    backUp();
    jest.advanceTimersByTime(READING_WINDOW_MS - 1);
    expect(member.holdsBack).toBe(true);

    jest.advanceTimersByTime(1);
    expect(member.holdsBack).toBe(false);
    expect(chat.released).toHaveBeenCalledTimes(1);
    expect(deliver(100)).toBe('delivered');
    expect(member.holdsBack).toBe(false);

    // Reading again, it holds the room back again.
    socket.take(1);
    expect(member.holdsBack).toBe(true);
  });

  it('is cut off once it has read nothing for CHAT_STALL_MS while lines wait, and told its room', () => {
    backUp();
    jest.advanceTimersByTime(STALL_MS - 1);
    expect(connection.cutOff).not.toHaveBeenCalled();

    jest.advanceTimersByTime(1);
    expect(connection.cutOff).toHaveBeenCalledTimes(1);
    expect(connection.cutOff).toHaveBeenCalledWith(
      expect.stringMatching(/^66560 bytes unread and nothing read for 10000 ms \(CHAT_STALL_MS 10000\)$/),
    );
    expect(chat.stalledOut).toHaveBeenCalledWith(member);
    expect(member.deliver('late')).toBe('closed');
    expect(member.holdsBack).toBe(false);
  });

  it('is cut off for stalling with only a little unread', () => {
    deliver(1);
    jest.advanceTimersByTime(STALL_MS);

    expect(connection.cutOff).toHaveBeenCalledTimes(1);
    expect(chat.stalledOut).toHaveBeenCalledTimes(1);
  });

  it('restarts the stall clock whenever the kernel takes something', () => {
    deliver(20);
    for (let step = 0; step < 10; step++) {
      jest.advanceTimersByTime(STALL_MS - 1);
      socket.take(1);
    }

    expect(connection.cutOff).not.toHaveBeenCalled();
    jest.advanceTimersByTime(STALL_MS);
    expect(connection.cutOff).toHaveBeenCalledTimes(1);
  });

  it('never cuts off a member that has nothing waiting, however long it is quiet', () => {
    deliver(10);
    socket.take();
    jest.advanceTimersByTime(10 * STALL_MS);

    expect(connection.cutOff).not.toHaveBeenCalled();
    // Its clock starts again with the next line that waits.
    deliver(1);
    jest.advanceTimersByTime(STALL_MS - 1);
    expect(connection.cutOff).not.toHaveBeenCalled();
  });

  it('is cut off at once by the delivery that leaves more than CHAT_MAX_BACKLOG_BYTES waiting, each line weighed with its overhead', () => {
    const fits = Math.floor(MAX_BACKLOG / (KIB + LINE_OVERHEAD_BYTES));
    expect(deliver(fits)).toBe('delivered');

    expect(member.deliver('x'.repeat(KIB))).toBe('cut-off');
    expect(connection.cutOff).toHaveBeenCalledWith(
      `${(fits + 1) * KIB} bytes in ${fits + 1} lines unread, above CHAT_MAX_BACKLOG_BYTES (${MAX_BACKLOG})`,
    );
    expect(chat.stalledOut).not.toHaveBeenCalled();
    expect(member.deliver('x')).toBe('closed');
  });

  it('bounds a flood of one-byte lines by their count, not only their bytes', () => {
    const fits = Math.floor(MAX_BACKLOG / (1 + LINE_OVERHEAD_BYTES));
    for (let index = 0; index < fits; index++) {
      expect(member.deliver('x')).toBe('delivered');
    }
    expect(member.deliver('x')).toBe('cut-off');
  });

  it('holds the room back from a smaller backlog when CHAT_MAX_BACKLOG_BYTES is below BACKED_UP_BYTES', () => {
    setUp({ chatStallMs: STALL_MS, chatMaxBacklogBytes: 8 * KIB });
    deliver(6);
    expect(member.holdsBack).toBe(false);

    expect(member.deliver('x'.repeat(3 * KIB))).toBe('cut-off');
  });

  it('reads within half of CHAT_STALL_MS when that is shorter than READING_WINDOW_MS', () => {
    setUp({ chatStallMs: 1_000, chatMaxBacklogBytes: MAX_BACKLOG });
    backUp();
    jest.advanceTimersByTime(499);
    expect(member.holdsBack).toBe(true);

    jest.advanceTimersByTime(1);
    expect(member.holdsBack).toBe(false);
    jest.advanceTimersByTime(500);
    expect(connection.cutOff).toHaveBeenCalledTimes(1);
  });

  it('delivers nothing to a closed or closing connection, and its timers end with it', () => {
    backUp();
    socket.writableEnded = true;
    expect(member.deliver('x')).toBe('closed');

    socket.destroy();
    expect(member.holdsBack).toBe(false);
    jest.advanceTimersByTime(10 * STALL_MS);
    expect(connection.cutOff).not.toHaveBeenCalled();
    expect(chat.released).not.toHaveBeenCalled();
    expect(jest.getTimerCount()).toBe(0);
  });
});
