import { FrameRejectedError } from './frame-rejected.error';

const HASH = 0x23;
const ZERO = 0x30;
const NINE = 0x39;
/** Partial bodies smaller than this are copied, so that they do not pin the 64 KiB read buffer they arrived in. */
const COPY_BELOW_BYTES = 16 * 1024;
const EMPTY = Buffer.alloc(0);

/**
 * Cuts a byte stream into the frames of Nest's TCP transport: `<length>#<json>`, where `<length>`
 * counts UTF-16 code units of the JSON text, not bytes. Each byte is read once: a body is measured
 * by the lead bytes of its UTF-8 characters, and decoded (checked to be well-formed) once complete.
 */
export class FrameDecoder {
  private input: Buffer = EMPTY;
  private offset = 0;
  private inBody = false;
  private headerDigits = 0;
  private announced = 0;
  private unitsLeft = 0;
  /** Continuation bytes of the body's last character that have not arrived yet. */
  private pendingContinuation = 0;
  private bodyStart = 0;
  private readonly parts: Buffer[] = [];
  private partsBytes = 0;
  private ascii = true;
  private completed = 0;
  private readonly utf8 = new TextDecoder('utf-8', { fatal: true, ignoreBOM: true });

  /**
   * @param maxFrameLength largest announced length accepted, in UTF-16 code units.
   * @param maxBufferedBytes most bytes held between reads: the part of a frame received so far plus unread input.
   */
  constructor(
    private readonly maxFrameLength: number,
    private readonly maxBufferedBytes: number,
  ) {}

  /** Whether some bytes of a frame that is not complete yet have been consumed. */
  get frameInProgress(): boolean {
    return this.inBody || this.headerDigits > 0;
  }

  /** How many frames `next()` has returned so far. */
  get framesCompleted(): number {
    return this.completed;
  }

  get bufferedBytes(): number {
    return this.partsBytes + this.input.length - this.offset;
  }

  /** Adds bytes read from the peer. Call `next()` until it returns `undefined` before pushing more. */
  push(chunk: Buffer): void {
    const held = this.bufferedBytes + chunk.length;
    if (held > this.maxBufferedBytes) {
      throw new FrameRejectedError('BUFFER_LIMIT', `${held} bytes buffered, more than the limit of ${this.maxBufferedBytes}`);
    }
    // Unread input is left only when the caller stopped between two frames, so no body offset refers to it.
    this.input = this.offset < this.input.length ? Buffer.concat([this.input.subarray(this.offset), chunk]) : chunk;
    this.offset = 0;
    this.bodyStart = 0;
  }

  /** The JSON text of the next complete frame, or `undefined` when more bytes are needed. Throws `FrameRejectedError`. */
  next(): string | undefined {
    if (!this.inBody && !this.readHeader()) {
      return undefined;
    }
    return this.readBody();
  }

  private readHeader(): boolean {
    const input = this.input;
    const end = input.length;
    let i = this.offset;
    let value = this.announced;
    let digits = this.headerDigits;
    for (;;) {
      if (i >= end) {
        this.offset = i;
        this.announced = value;
        this.headerDigits = digits;
        return false;
      }
      const byte = input[i++];
      if (byte >= ZERO && byte <= NINE && (digits > 0 || byte !== ZERO)) {
        value = value * 10 + (byte - ZERO);
        digits += 1;
        if (value > this.maxFrameLength) {
          throw new FrameRejectedError('FRAME_TOO_LONG', `announced length reaches ${value}, above the limit of ${this.maxFrameLength}`);
        }
      } else if (byte === HASH && digits > 0) {
        break;
      } else {
        throw new FrameRejectedError('BAD_HEADER', `byte 0x${byte.toString(16).padStart(2, '0')} after ${digits} header digit(s)`);
      }
    }
    this.offset = i;
    this.inBody = true;
    this.announced = value;
    this.unitsLeft = value;
    this.headerDigits = 0;
    this.bodyStart = i;
    this.ascii = true;
    return true;
  }

  private readBody(): string | undefined {
    const input = this.input;
    const end = input.length;
    let i = this.offset + this.pendingContinuation;
    let left = this.unitsLeft;
    let ascii = this.ascii;
    while (left > 0 && i < end) {
      const byte = input[i];
      if (byte < 0x80) {
        i += 1;
        left -= 1;
      } else if (byte >= 0xc2 && byte < 0xe0) {
        i += 2;
        left -= 1;
        ascii = false;
      } else if (byte >= 0xe0 && byte < 0xf0) {
        i += 3;
        left -= 1;
        ascii = false;
      } else if (byte >= 0xf0 && byte < 0xf5) {
        i += 4;
        left -= 2;
        ascii = false;
      } else {
        throw new FrameRejectedError('INVALID_UTF8', `byte 0x${byte.toString(16)} cannot start a UTF-8 character`);
      }
    }
    if (left < 0) {
      throw new FrameRejectedError('SPLIT_CHARACTER', `announced length ${this.announced} ends inside a surrogate pair`);
    }
    this.pendingContinuation = i > end ? i - end : 0;
    this.unitsLeft = left;
    this.ascii = ascii;
    if (left > 0 || this.pendingContinuation > 0) {
      this.keepPartialBody(end);
      return undefined;
    }
    const bytes = this.takeBody(i);
    this.offset = i;
    this.inBody = false;
    this.announced = 0;
    this.completed += 1;
    if (ascii) {
      return bytes.toString('latin1');
    }
    try {
      return this.utf8.decode(bytes);
    } catch {
      throw new FrameRejectedError('INVALID_UTF8', `a ${bytes.length}-byte frame body is not well-formed UTF-8`);
    }
  }

  private keepPartialBody(end: number): void {
    const slice = this.input.subarray(this.bodyStart, end);
    if (slice.length > 0) {
      this.parts.push(slice.length < COPY_BELOW_BYTES ? Buffer.from(slice) : slice);
      this.partsBytes += slice.length;
    }
    this.offset = end;
  }

  private takeBody(bodyEnd: number): Buffer {
    const tail = this.input.subarray(this.bodyStart, bodyEnd);
    if (this.parts.length === 0) {
      return tail;
    }
    this.parts.push(tail);
    const body = Buffer.concat(this.parts, this.partsBytes + tail.length);
    this.parts.length = 0;
    this.partsBytes = 0;
    return body;
  }
}
