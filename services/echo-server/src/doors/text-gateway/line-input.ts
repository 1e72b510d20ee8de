import { LineSplitter, type SplitEvent } from '../text/line-splitter';
import type { EncodingSetting } from '../text/text-codec';
import { bytesToHold, continuesCharacter } from '../text/text-line';

/** How long a trailing half character may wait for its other bytes, in multiples of the idle flush. */
const INCOMPLETE_CHARACTER_FLUSHES = 30;

export type QueuedInput = SplitEvent | { kind: 'incomplete' };

export interface LineInputSettings {
  maxLineBytes: number;
  idleFlushMs: number;
  /** A line still incomplete this long after its first byte times out; 0: never. */
  lineTimeoutMs: number;
}

/** The connection a `LineInput` reads for. */
export interface LineReader {
  /** The connection's encoding now (it decides where a character split across reads ends). */
  encodingNow(): EncodingSetting;
  /** Lines it can queue now; the rest of a chunk waits in the `LineInput` until it has room. */
  room(): number;
  enqueue(input: QueuedInput): void;
  /** Whether a partial line may be taken as whole once the peer pauses: nothing waits, runs or is unread. */
  quiet(): boolean;
  /** A line ended (complete, too long, or flushed): the connection's activity. */
  lineEnded(): void;
  /** A line still incomplete `lineTimeoutMs` after its first byte. */
  lineTimedOut(): void;
}

/**
 * The bytes of one text connection as lines: split as the connection has room for them, a
 * partial line taken as whole once the peer pauses (the tutorials' clients send no newline), a
 * character split across reads kept whole, and each line given one deadline from its first byte.
 */
export class LineInput {
  private readonly splitter: LineSplitter;
  /** The part of the last chunk not split yet: the connection had no room for its lines. */
  private unsplit: Buffer | undefined;
  /** The start of a character that a flush kept back for the next read. */
  private heldTail: Buffer | undefined;
  private flushTimer: NodeJS.Timeout | undefined;
  private lineTimer: NodeJS.Timeout | undefined;
  private timedLine = -1;
  private closed = false;
  private splitting = false;

  constructor(
    private readonly settings: LineInputSettings,
    private readonly reader: LineReader,
  ) {
    this.splitter = new LineSplitter({ maxLineBytes: settings.maxLineBytes });
  }

  /** Whether part of a chunk waits for room: the connection should not read more meanwhile. */
  get backlogged(): boolean {
    return this.unsplit !== undefined;
  }

  /** A chunk read from the socket. */
  push(chunk: Buffer): void {
    if (this.heldTail !== undefined) {
      const held = this.heldTail;
      this.heldTail = undefined;
      if (!continuesCharacter(held, chunk, this.reader.encodingNow())) {
        this.splitter.reset();
        this.reader.enqueue({ kind: 'incomplete' });
      }
    }
    this.unsplit = this.unsplit === undefined ? chunk : Buffer.concat([this.unsplit, chunk]);
    this.split();
  }

  /** Splits what waits, as far as the connection has room; then times the line in progress and arms the flush. */
  split(): void {
    // Once: the reader may call back while it takes a line (its handling can end at once), and a
    // nested split would queue later lines before the rest of this batch.
    if (this.splitting) {
      return;
    }
    this.splitting = true;
    const ended = this.splitter.endedLines;
    try {
      while (this.unsplit !== undefined && this.reader.room() > 0 && !this.closed) {
        const { events, rest } = this.splitter.pushUpTo(this.unsplit, this.reader.room());
        this.unsplit = rest;
        events.forEach((event) => this.reader.enqueue(event));
      }
    } finally {
      this.splitting = false;
    }
    if (this.splitter.endedLines !== ended) {
      this.reader.lineEnded();
    }
    this.timeLine();
    this.armFlush();
  }

  /**
   * Starts the idle flush of a partial line, but only while the peer is really silent: not while
   * lines wait or run (their handling may outlast the flush delay) nor while reading is paused,
   * when the rest of the line may be waiting unread.
   */
  armFlush(): void {
    clearTimeout(this.flushTimer);
    this.flushTimer = undefined;
    if (this.splitter.pendingBytes === 0 || this.unsplit !== undefined || !this.reader.quiet() || this.closed) {
      return;
    }
    // setImmediate after the timer: bytes the kernel already holds are read before the partial line is taken as whole.
    const timer = setTimeout(() => setImmediate(() => this.flushIfStillSilent(timer)), this.settings.idleFlushMs);
    this.flushTimer = timer;
  }

  close(): void {
    this.closed = true;
    this.unsplit = undefined;
    clearTimeout(this.flushTimer);
    clearTimeout(this.lineTimer);
  }

  private flushIfStillSilent(timer: NodeJS.Timeout): void {
    if (this.flushTimer === timer && this.splitter.pendingBytes > 0 && this.unsplit === undefined && this.reader.quiet()) {
      this.flushPartial();
    }
  }

  /** The peer paused mid-line: its partial line is taken as a line, but for a trailing incomplete character. */
  private flushPartial(): void {
    this.flushTimer = undefined;
    const line = this.splitter.flushPartial((bytes) => {
      const hold = bytesToHold(bytes, this.reader.encodingNow());
      this.heldTail = hold === 0 ? undefined : Buffer.from(bytes.subarray(bytes.length - hold));
      return hold;
    });
    if (line !== undefined) {
      this.reader.enqueue({ kind: 'line', bytes: line });
      this.reader.lineEnded();
    }
    if (this.splitter.pendingBytes > 0) {
      this.flushTimer = setTimeout(() => {
        this.flushTimer = undefined;
        this.heldTail = undefined;
        this.splitter.reset();
        this.reader.enqueue({ kind: 'incomplete' });
      }, this.settings.idleFlushMs * INCOMPLETE_CHARACTER_FLUSHES);
    }
    this.timeLine();
  }

  /**
   * Keeps one deadline per line, from its first byte: more bytes of the same line do not move it.
   * None runs while bytes wait unsplit: then the server is behind, not the peer.
   */
  private timeLine(): void {
    if (this.settings.lineTimeoutMs === 0) {
      return;
    }
    const inProgress = this.unsplit === undefined && (this.splitter.pendingBytes > 0 || this.splitter.discarding);
    if (!inProgress) {
      clearTimeout(this.lineTimer);
      this.lineTimer = undefined;
      return;
    }
    const line = this.splitter.endedLines;
    if (this.lineTimer !== undefined && this.timedLine === line) {
      return;
    }
    clearTimeout(this.lineTimer);
    this.timedLine = line;
    this.lineTimer = setTimeout(() => {
      this.lineTimer = undefined;
      if (!this.closed) {
        this.reader.lineTimedOut();
      }
    }, this.settings.lineTimeoutMs);
  }
}
