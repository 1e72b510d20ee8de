import type { Socket } from 'node:net';
import type { ChatMember, Delivery } from './chat-member';
import type { ChatRooms } from './chat-rooms.service';

/** Bytes waiting for a member above which it is backed up: while it still reads, its room's senders wait for it. */
export const BACKED_UP_BYTES = 64 * 1024;
/**
 * A backed-up member that the kernel took nothing from for this long (or for half of
 * CHAT_STALL_MS, if that is shorter) no longer holds its room's senders back. 5 s rather than 1:
 * in a 10-minute soak on a loaded machine a member that read all along went more than 1 s
 * without progress, stopped holding the room, and was cut at the hard bound; a member that reads
 * nothing can hold its room for this long once, before it is let go (and cut at CHAT_STALL_MS).
 */
export const READING_WINDOW_MS = 5_000;
/**
 * What one waiting line costs beyond its bytes (the buffers are shared by the room, the write
 * queue's entry is the member's own), counted against CHAT_MAX_BACKLOG_BYTES so that a flood of
 * short lines cannot hold many times the bound.
 */
export const LINE_OVERHEAD_BYTES = 256;

/** The chat settings a member is held to. */
export interface ChatMemberSettings {
  /** CHAT_STALL_MS: a member with lines waiting that reads nothing for this long is cut off. */
  chatStallMs: number;
  /** CHAT_MAX_BACKLOG_BYTES: a member with more than this waiting is cut off. */
  chatMaxBacklogBytes: number;
}

/** What the member needs of its connection. */
export interface ChatConnection {
  /** Queues a line in the connection's encoding and hands it to the kernel now; `taken` runs once the kernel has taken it. */
  write(line: string, taken: (error?: Error | null) => void): void;
  /** Closes the connection at once; `reason` is for the log. */
  cutOff(reason: string): void;
}

/**
 * A text connection as a chat member: its nick, and the chat lines on their way to it. Its
 * backlog is what its socket holds that the kernel has not taken (`writableLength`); it reads
 * when a write completes (the kernel took it). Backed up (above BACKED_UP_BYTES) and read within
 * READING_WINDOW_MS, it holds its room's senders back (ChatRooms makes them wait); once it stops
 * reading it holds no one back, and it is cut off when it has read nothing for CHAT_STALL_MS
 * while lines wait, or at once when more than CHAT_MAX_BACKLOG_BYTES wait.
 */
export class TextChatMember implements ChatMember {
  nick: string;
  private readonly softBytes: number;
  private readonly windowMs: number;
  /** When the kernel last took bytes, or bytes started waiting. */
  private lastProgressAt = performance.now();
  private holding = false;
  /** Lines written and not yet taken by the kernel. */
  private waitingLines = 0;
  private timer: NodeJS.Timeout | undefined;
  private timerDueAt = Infinity;

  constructor(
    readonly id: number,
    private readonly socket: Socket,
    private readonly settings: ChatMemberSettings,
    private readonly chat: Pick<ChatRooms, 'released' | 'stalledOut'>,
    private readonly connection: ChatConnection,
  ) {
    this.nick = `guest-${id}`;
    this.softBytes = Math.min(BACKED_UP_BYTES, settings.chatMaxBacklogBytes);
    this.windowMs = Math.min(READING_WINDOW_MS, settings.chatStallMs / 2);
    socket.once('close', () => this.stop());
  }

  /** Whether the member's room's senders wait for it: lines are backed up for it, and it is reading them. */
  get holdsBack(): boolean {
    return this.holding && !this.socket.destroyed;
  }

  deliver(line: string): Delivery {
    if (this.socket.destroyed || this.socket.writableEnded) {
      return 'closed';
    }
    if (this.socket.writableLength === 0) {
      // Nothing was waiting: the member is not behind, whatever it last read.
      this.lastProgressAt = performance.now();
    }
    this.waitingLines += 1;
    this.connection.write(line, (error) => this.taken(error));
    const reason = this.judge();
    if (reason === undefined) {
      return 'delivered';
    }
    this.cutOff(reason);
    return 'cut-off';
  }

  private taken(error: Error | null | undefined): void {
    this.waitingLines -= 1;
    if (error || this.socket.destroyed) {
      return;
    }
    this.lastProgressAt = performance.now();
    this.judge();
  }

  /** Whether the member must be cut off (why); else updates whether it holds back, and its timer. */
  private judge(): string | undefined {
    const backlog = this.socket.writableLength;
    const held = backlog + this.waitingLines * LINE_OVERHEAD_BYTES;
    if (held > this.settings.chatMaxBacklogBytes) {
      return `${backlog} bytes in ${this.waitingLines} lines unread, above CHAT_MAX_BACKLOG_BYTES (${this.settings.chatMaxBacklogBytes})`;
    }
    const now = performance.now();
    const idleMs = now - this.lastProgressAt;
    if (backlog > 0 && idleMs >= this.settings.chatStallMs) {
      return `${backlog} bytes unread and nothing read for ${Math.round(idleMs)} ms (CHAT_STALL_MS ${this.settings.chatStallMs})`;
    }
    const holding = backlog > this.softBytes && idleMs < this.windowMs;
    if (holding !== this.holding) {
      this.holding = holding;
      if (!holding) {
        this.chat.released(this);
      }
    }
    if (backlog > 0) {
      this.arm(this.lastProgressAt + (holding ? this.windowMs : this.settings.chatStallMs), now);
    }
    return undefined;
  }

  /** Judges the member again at `dueAt`; an earlier timer is kept (it judges again and re-arms). */
  private arm(dueAt: number, now: number): void {
    if (this.timer !== undefined && this.timerDueAt <= dueAt) {
      return;
    }
    clearTimeout(this.timer);
    this.timerDueAt = dueAt;
    this.timer = setTimeout(() => this.timedOut(), Math.max(1, Math.ceil(dueAt - now)));
  }

  private timedOut(): void {
    this.timer = undefined;
    this.timerDueAt = Infinity;
    if (this.socket.destroyed) {
      return;
    }
    const reason = this.judge();
    if (reason !== undefined) {
      this.cutOff(reason);
      this.chat.stalledOut(this);
    }
  }

  private cutOff(reason: string): void {
    this.stop();
    this.connection.cutOff(reason);
  }

  private stop(): void {
    clearTimeout(this.timer);
    this.timer = undefined;
    this.timerDueAt = Infinity;
    this.holding = false;
  }
}
