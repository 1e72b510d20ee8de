import type { Socket } from 'node:net';
import { CLOSE_GRACE_MS, destroyUnlessClosed, ErrorCodes } from '@echo-pair/common';
import { TextChatMember } from './text-chat-member';
import type { EncodingSetting, TextEncodingName } from '../text/text-codec';
import { errorLine } from '../text/text-line';
import type { AdmittedConnection } from '../admission/connection-admission';
import { LineInput, type LineReader, type QueuedInput } from './line-input';
import type { TextGatewayHost } from './text-gateway-host';
import { ReplyWriter } from './reply-writer';
import { LineRunner } from './line-runner';

/** Lines read ahead of the one being handled; past it the socket is paused (TCP flow control does the rest). */
const MAX_QUEUED_LINES = 64;

/**
 * One text-gateway connection: its bytes become lines (`LineInput`), its lines run one at a time
 * through the same handlers as every other transport, no faster than the peer reads the replies,
 * which go back in its own encoding; and it is a chat member (`member`). The lines of one read run
 * in one pass, synchronously while the handlers answer synchronously, and their replies leave in
 * one write (`ReplyWriter`); only a promise (a slow command, a throttled chat room) suspends the
 * pass until it settles. Its timers: the welcome, and the idle timeout, which only complete lines
 * restart (its door's `place` holds the time of the last).
 */
export class TextConnection implements LineReader {
  private readonly member: TextChatMember;
  private readonly runner: LineRunner;
  private readonly input: LineInput;
  private readonly queue: QueuedInput[] = [];
  private readonly replies: ReplyWriter;
  private encoding: EncodingSetting;
  private spoken = false;
  /** A pass over the queue runs, or waits for a promise. */
  private busy = false;
  /** The input is being split: the lines it queues wait for the pass that follows. */
  private collecting = false;
  private closing = false;
  private welcomeTimer: NodeJS.Timeout | undefined;
  private idleTimer: NodeJS.Timeout | undefined;

  constructor(
    private readonly socket: Socket,
    readonly id: number,
    private readonly peer: string,
    private readonly host: TextGatewayHost,
    private readonly place: AdmittedConnection,
  ) {
    const { settings } = host;
    this.encoding = settings.encoding;
    this.input = new LineInput(settings, this);
    // Replies the peer does not read stop the reading: what it does not read, it cannot make the server hold.
    this.replies = new ReplyWriter(socket, () => socket.pause());
    socket.setNoDelay(true);
    socket.on('data', (chunk: Buffer) => this.received(chunk));
    socket.on('drain', () => {
      this.pump();
      this.resumeIfReady();
    });
    socket.on('error', () => undefined); // a reset peer; 'close' follows and cleans up
    socket.once('close', () => this.closed());
    this.armIdleTimer(settings.idleTimeoutMs);
    this.member = new TextChatMember(id, socket, settings, host.chat, {
      write: (line, taken) => this.writeChatLine(line, taken),
      cutOff: (reason) => this.cutOff(reason),
    });
    host.chat.enter(this.member);
    this.runner = new LineRunner(host, this.member, peer, {
      encodingNow: () => this.encoding,
      useEncoding: (encoding) => {
        this.encoding = encoding;
      },
      write: (line) => this.write(line),
      close: () => this.close(),
    });
    this.welcomeTimer = setTimeout(() => {
      this.welcomeTimer = undefined;
      if (!this.spoken) {
        this.write(host.welcome());
      }
    }, settings.welcomeDelayMs);
  }

  /** Its door is full and this connection has been idle the longest: it makes room for a newcomer. */
  giveWay(setting: string): void {
    this.write(`bye: the server is at ${setting} and this connection was idle the longest`);
    this.close();
  }

  private cutOff(reason: string): void {
    this.host.logger.warn(`text connection #${this.id} from ${this.peer} cut off: ${reason}`);
    this.closing = true;
    this.socket.destroy();
  }

  encodingNow(): EncodingSetting {
    return this.encoding;
  }

  room(): number {
    return MAX_QUEUED_LINES - this.queue.length;
  }

  quiet(): boolean {
    return !this.busy && this.queue.length === 0 && !this.socket.isPaused() && !this.closing;
  }

  enqueue(input: QueuedInput): void {
    this.queue.push(input); // at most MAX_QUEUED_LINES: the input splits no more than `room()` lines
    if (!this.collecting) {
      this.pump(); // a flushed partial line, or an incomplete character: on its own
    }
  }

  lineEnded(): void {
    this.place.lastActive = performance.now();
  }

  lineTimedOut(): void {
    const seconds = this.host.settings.lineTimeoutMs / 1000;
    const message = `TEXT_LINE_TIMEOUT_MS: the line was not complete ${seconds} s after its first byte`;
    this.write(errorLine({ code: ErrorCodes.LIMIT_REACHED, message }));
    this.host.closedByDoor('TEXT_LINE_TIMEOUT_MS', this.peer, `a line incomplete ${seconds} s after its first byte`);
    this.close();
  }

  private received(chunk: Buffer): void {
    if (this.closing) {
      return;
    }
    if (!this.spoken) {
      this.spoken = true;
      clearTimeout(this.welcomeTimer);
    }
    this.collect(() => this.input.push(chunk));
    if (this.input.backlogged) {
      this.socket.pause();
    }
  }

  /** Lets the input split (`split`), then runs the lines it queued in one pass. */
  private collect(split: () => void): void {
    const queued = this.queue.length;
    this.collecting = true;
    try {
      split();
    } finally {
      this.collecting = false;
    }
    if (this.queue.length > queued) {
      this.pump();
    }
  }

  /**
   * One pass over the queued lines, their replies gathered into one write. It goes on
   * synchronously while each line is answered there and then; a line answered by a promise
   * suspends it (`busy` meanwhile) until the promise settles, and the pass then resumes.
   */
  private pump(): void {
    if (this.busy) {
      return;
    }
    this.busy = true;
    this.replies.hold();
    // No further line while the replies wait for the peer: what it does not read, it cannot make the server hold.
    while (this.queue.length > 0 && !this.closing && !this.socket.writableNeedDrain) {
      let later: Promise<void> | undefined;
      try {
        later = this.runner.handle(this.queue.shift()!);
      } catch (error) {
        return this.broken(error);
      }
      if (later !== undefined) {
        this.replies.releaseSoon();
        later.then(
          () => this.resume(),
          (error: unknown) => this.broken(error),
        );
        return;
      }
    }
    this.replies.release();
    this.busy = false;
    if (this.input.backlogged) {
      // The rest of a read waits a turn of the event loop: other connections are served between batches of lines.
      setImmediate(() => {
        this.collect(() => this.input.split());
        this.resumeIfReady();
      });
    } else {
      this.collect(() => this.input.split()); // times the line in progress, arms the flush
      this.resumeIfReady();
    }
  }

  private resume(): void {
    this.busy = false;
    this.pump();
  }

  /** A line's handling threw (a bug: handlers' errors are outcomes): the replies before it go, and the connection ends. */
  private broken(error: unknown): void {
    const detail = error instanceof Error ? error.stack : String(error);
    this.host.logger.error(`text connection #${this.id} from ${this.peer} closed, a line failed: ${detail}`);
    this.close();
  }

  /** Reads on once the queue is short, no chunk waits to be split and the peer is reading its replies. */
  private resumeIfReady(): void {
    const ready = this.queue.length < MAX_QUEUED_LINES && !this.input.backlogged && !this.socket.writableNeedDrain;
    if (!this.closing && ready && this.socket.isPaused()) {
      this.socket.resume();
    }
  }

  private write(line: string): undefined {
    if (!this.closing) {
      this.replies.write(line, this.outputEncoding());
    }
    return undefined;
  }

  /** A chat line from the connection's room: the member judges its backlog by what the kernel has taken. */
  private writeChatLine(line: string, taken: (error?: Error | null) => void): void {
    if (!this.closing) {
      this.replies.writeShared(line, this.outputEncoding(), taken);
    }
  }

  private outputEncoding(): TextEncodingName {
    return this.encoding === 'auto' ? 'utf-8' : this.encoding;
  }

  /** Closes the connection once it has sent no complete line for `idleTimeoutMs` (checked when due, not moved per line). */
  private armIdleTimer(delayMs: number): void {
    const { idleTimeoutMs } = this.host.settings;
    if (idleTimeoutMs === 0 || this.closing) {
      return;
    }
    this.idleTimer = setTimeout(() => {
      const idleMs = performance.now() - this.place.lastActive;
      if (idleMs < idleTimeoutMs) {
        this.armIdleTimer(idleTimeoutMs - idleMs);
        return;
      }
      this.write(`bye: nothing received for ${Math.round(idleTimeoutMs / 1000)} s`);
      this.close();
    }, delayMs);
  }

  private close(): undefined {
    this.closing = true;
    this.replies.flush(); // the replies gathered so far, `bye` among them, go before the end
    this.socket.end();
    void destroyUnlessClosed(this.socket, CLOSE_GRACE_MS);
    return undefined;
  }

  private closed(): void {
    this.closing = true;
    this.input.close();
    clearTimeout(this.idleTimer);
    clearTimeout(this.welcomeTimer);
    this.queue.length = 0;
    this.host.chat.exit(this.member, 'disconnected');
  }
}
