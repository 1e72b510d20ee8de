import type { Socket } from 'node:net';
import { encodeText, encodeTextShared, type TextEncodingName } from '../text/text-codec';

/**
 * The reply lines of one text connection on their way to its socket. While it holds (the
 * connection runs a batch of lines), replies are gathered as one text and leave in one write when
 * it lets go, or sooner once they reach the socket's high-water mark (so that `writableNeedDrain`
 * still stops the batch); one write per read rather than one per line, as a plain line server does.
 * UTF-8 text goes to the socket as a string (Node writes lone surrogates as U+FFFD, as `encodeText`
 * does), GBK as `encodeText`'s bytes.
 */
export class ReplyWriter {
  private gathered = '';
  private gatheredEncoding: TextEncodingName = 'utf-8';
  private holding = false;
  private flushSoon = false;

  constructor(
    private readonly socket: Socket,
    /** The socket's buffer is over its high-water mark: the connection stops reading. */
    private readonly backedUp: () => void,
  ) {}

  /** Gathers replies from now on, until `release`. */
  hold(): void {
    this.holding = true;
  }

  /** Sends what was gathered; later replies go out as they come. */
  release(): void {
    this.holding = false;
    this.flush();
  }

  /**
   * Sends what was gathered on the next turn of the event loop, still gathering meanwhile: a
   * slow command (sleep) does not hold back the replies before it, while replies that follow within
   * the same turn (a promise settled at once) still leave together.
   */
  releaseSoon(): void {
    if (this.gathered === '' || this.flushSoon) {
      return;
    }
    this.flushSoon = true;
    setImmediate(() => {
      this.flushSoon = false;
      this.flush();
    });
  }

  /** A reply line in `encoding`; gathered while holding, else written at once. */
  write(line: string, encoding: TextEncodingName): void {
    if (this.socket.writableEnded || this.socket.destroyed) {
      return;
    }
    if (!this.holding) {
      this.send(`${line}\n`, encoding);
      return;
    }
    if (encoding !== this.gatheredEncoding) {
      this.flush(); // /encoding or a detected encoding: the replies before it keep theirs
      this.gatheredEncoding = encoding;
    }
    this.gathered += `${line}\n`;
    if (this.gathered.length >= this.socket.writableHighWaterMark) {
      this.flush();
    }
  }

  /**
   * A chat line, written at once after the replies gathered (its member is judged by what the
   * kernel has not taken, so it is not held back); `taken` runs once the kernel has taken it.
   * Its bytes are shared with the other members' copies of the line.
   */
  writeShared(line: string, encoding: TextEncodingName, taken: (error?: Error | null) => void): void {
    if (this.socket.writableEnded || this.socket.destroyed) {
      return;
    }
    this.flush();
    this.socket.write(encodeTextShared(`${line}\n`, encoding), taken);
    this.checkBackedUp();
  }

  /** Sends what was gathered now (before the connection ends, or when a write must follow it). */
  flush(): void {
    if (this.gathered === '') {
      return;
    }
    const text = this.gathered;
    this.gathered = '';
    if (this.socket.writableEnded || this.socket.destroyed) {
      return;
    }
    this.send(text, this.gatheredEncoding);
  }

  private send(text: string, encoding: TextEncodingName): void {
    if (encoding === 'utf-8') {
      this.socket.write(text, 'utf8');
    } else {
      this.socket.write(encodeText(text, encoding));
    }
    this.checkBackedUp();
  }

  private checkBackedUp(): void {
    if (this.socket.writableNeedDrain) {
      this.backedUp();
    }
  }
}
