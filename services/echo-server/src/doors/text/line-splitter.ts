const LF = 0x0a;
const CR = 0x0d;
const INITIAL_CAPACITY = 256;
/** A buffer that grew past this for one long line is released once the line is done. */
const KEEP_CAPACITY_BELOW = 64 * 1024;
const EMPTY = Buffer.alloc(0);

/** A line (a copy, without `\n` and a `\r` before it), or a line over the bound: how many of its bytes were seen (and dropped) when it was given up, at least maxLineBytes + 1. */
export type SplitEvent = { kind: 'line'; bytes: Buffer } | { kind: 'too-long'; bytes: number };

export interface LineSplitterOptions {
  /** Longest line accepted, in bytes, not counting its `\n` and a `\r` before it. */
  maxLineBytes: number;
}

/**
 * Cuts a byte stream into `\n`-terminated lines without decoding it: 0x0A never occurs inside a
 * UTF-8 or GB18030 multi-byte character. Each pushed byte is scanned once, and a partial line is
 * held in one buffer that grows by doubling, so feeding a line one byte at a time stays linear.
 */
export class LineSplitter {
  private readonly maxLineBytes: number;
  private held: Buffer = EMPTY;
  private heldBytes = 0;
  private dropping = false;
  private ended = 0;

  constructor(options: LineSplitterOptions) {
    if (!Number.isSafeInteger(options.maxLineBytes) || options.maxLineBytes < 1) {
      throw new RangeError(`maxLineBytes must be a positive integer, got ${options.maxLineBytes}`);
    }
    this.maxLineBytes = options.maxLineBytes;
  }

  /** Bytes of a partial line held (not counting a line being discarded). */
  get pendingBytes(): number {
    return this.heldBytes;
  }

  /** True while the rest of an over-long line is being discarded up to its next `\n`. */
  get discarding(): boolean {
    return this.dropping;
  }

  /** Lines ended so far: complete, too long (at their `\n`), or flushed as whole by `flushPartial`. */
  get endedLines(): number {
    return this.ended;
  }

  /** Feeds one chunk read from the socket; returns the events it completes, in order. */
  push(chunk: Buffer): SplitEvent[] {
    return this.pushUpTo(chunk, Infinity).events;
  }

  /**
   * Feeds a chunk up to its `maxEvents`-th event: returns the events and the rest of the chunk
   * not yet fed (a view, not a copy), so that a reader that is behind splits a chunk of many
   * short lines as it handles them rather than all at once.
   */
  pushUpTo(chunk: Buffer, maxEvents: number): { events: SplitEvent[]; rest: Buffer | undefined } {
    const events: SplitEvent[] = [];
    let start = 0;
    while (start < chunk.length) {
      if (events.length >= maxEvents) {
        return { events, rest: chunk.subarray(start) };
      }
      const newline = chunk.indexOf(LF, start);
      if (this.dropping) {
        if (newline === -1) {
          break;
        }
        this.dropping = false;
        this.ended += 1;
      } else if (newline === -1) {
        this.hold(chunk.subarray(start), events);
        break;
      } else {
        events.push(this.complete(chunk.subarray(start, newline)));
      }
      start = newline + 1;
    }
    return { events, rest: undefined };
  }

  /**
   * The peer paused with a partial line buffered: returns it as a line, except for a trailing
   * incomplete character, which stays buffered (so a multi-byte character split across reads is
   * never broken). `hold` is given a view of the held bytes (valid only during the call) and says
   * how many trailing bytes are an incomplete character. Returns undefined when nothing (beyond
   * such a tail) is buffered.
   */
  flushPartial(hold: (bytes: Buffer) => number): Buffer | undefined {
    const total = this.heldBytes;
    if (total === 0) {
      return undefined;
    }
    const tail = Math.min(Math.max(Math.trunc(hold(this.held.subarray(0, total))), 0), total);
    const flushed = total - tail;
    if (flushed === 0) {
      return undefined;
    }
    const line = Buffer.from(this.held.subarray(0, withoutTrailingCr(this.held, flushed)));
    this.ended += 1;
    this.held.copyWithin(0, flushed, total);
    this.heldBytes = tail;
    return line;
  }

  /** Drops everything held (used when a connection times out). */
  reset(): void {
    this.held = EMPTY;
    this.heldBytes = 0;
    this.dropping = false;
  }

  /** The end of a line (without its `\n`) arrived. */
  private complete(piece: Buffer): SplitEvent {
    const total = this.heldBytes + piece.length;
    const last = piece.length > 0 ? piece[piece.length - 1] : this.held[this.heldBytes - 1];
    const length = last === CR ? total - 1 : total;
    let event: SplitEvent;
    if (length > this.maxLineBytes) {
      event = { kind: 'too-long', bytes: total };
    } else {
      const line = Buffer.allocUnsafe(length);
      this.held.copy(line, 0, 0, Math.min(this.heldBytes, length));
      if (length > this.heldBytes) {
        piece.copy(line, this.heldBytes, 0, length - this.heldBytes);
      }
      event = { kind: 'line', bytes: line };
    }
    this.heldBytes = 0;
    this.ended += 1;
    if (this.held.length > KEEP_CAPACITY_BELOW) {
      this.held = EMPTY;
    }
    return event;
  }

  /** The start or middle of a line arrived: keep it, or give up on the line once it is too long. */
  private hold(piece: Buffer, events: SplitEvent[]): void {
    const total = this.heldBytes + piece.length;
    // A final `\r` may be the one of `\r\n`, which does not count: decide when the next byte comes.
    const length = piece[piece.length - 1] === CR ? total - 1 : total;
    if (length > this.maxLineBytes) {
      events.push({ kind: 'too-long', bytes: total });
      this.heldBytes = 0;
      this.held = EMPTY;
      this.dropping = true;
      return;
    }
    if (total > this.held.length) {
      const grown = Buffer.allocUnsafe(Math.min(Math.max(total, this.held.length * 2, INITIAL_CAPACITY), this.maxLineBytes + 1));
      this.held.copy(grown, 0, 0, this.heldBytes);
      this.held = grown;
    }
    piece.copy(this.held, this.heldBytes);
    this.heldBytes = total;
  }
}

/** Length of `bytes[0, end)` once one `\r` at its end is dropped. */
function withoutTrailingCr(bytes: Buffer, end: number): number {
  return end > 0 && bytes[end - 1] === CR ? end - 1 : end;
}
