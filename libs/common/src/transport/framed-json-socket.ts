import { TcpSocket } from '@nestjs/microservices';
import type { Socket } from 'node:net';
import { destroyUnlessClosed } from './destroy-unless-closed';
import { formatPeer } from './format-peer';
import { FrameDecoder } from './frame-decoder';
import { FrameRejectedError } from './frame-rejected.error';
import { resolveFramedJsonSocketOptions, type FramedJsonSocketSettings } from './framed-json-socket-options';
import { IncompleteFrameTimer } from './incomplete-frame-timer';
import { OutgoingFrames, type SendCallback } from './outgoing-frames';
import type { SocketRejectionReason } from '../contract/socket-rejection';

/** How long a rejected peer has to close its side after the server ended the connection. */
const REJECT_GRACE_MS = 1_000;

/**
 * A `TcpSocket` of Nest's TCP transport speaking the stock `JsonSocket` wire format
 * (`<length>#<json>`, length in UTF-16 code units) with hardened limits; plug it in with
 * `framedJsonSocket()` as `socketClass`. Frames are cut by `FrameDecoder` (a peer that breaks
 * the framing is rejected at the first offending byte) and written by `OutgoingFrames`, one
 * write per tick. It knows frames, not requests: the server strategy enforces its own rules
 * through `reject` and `holdFrames`/`resumeFrames`.
 */
export class FramedJsonSocket extends TcpSocket {
  private readonly decoder: FrameDecoder;
  private readonly outgoing = new OutgoingFrames();
  private readonly frameTimer: IncompleteFrameTimer;
  private flushScheduled = false;
  private writeBlocked = false;
  private framesHeld = false;
  private readPaused = false;
  private readPending = false;
  private rejected = false;

  constructor(
    socket: Socket,
    private readonly settings: FramedJsonSocketSettings = resolveFramedJsonSocketOptions(),
  ) {
    super(socket);
    this.decoder = new FrameDecoder(settings.maxFrameLength, settings.maxBufferedBytes);
    this.frameTimer = new IncompleteFrameTimer(settings.incompleteFrameTimeoutMs, this.onFrameTimeout);
    if (settings.noDelay) {
      socket.setNoDelay(true);
    }
    socket.on('close', () => this.frameTimer.clear());
  }

  protected handleData(data: Buffer | string): void {
    if (this.rejected) {
      return; // discarded until the peer closes or the grace period ends
    }
    try {
      this.decoder.push(typeof data === 'string' ? Buffer.from(data) : data);
    } catch (error) {
      this.rejectFor(error);
      return;
    }
    this.readFrames();
  }

  /**
   * Ends the connection after the frames queued for this tick: ClientTCP's `close()` ends it
   * through here, and a flush on the next tick would write after the end.
   */
  override end(): this {
    if (this.outgoing.size > 0 && this.isWritable()) {
      this.writeBatch();
    }
    this.outgoing.clear();
    return super.end();
  }

  protected handleSend(message: unknown, callback?: SendCallback): void {
    if (this.rejected) {
      callback?.(new Error('connection rejected'));
      return;
    }
    if (!this.isWritable()) {
      callback?.(new Error('connection ended'));
      return;
    }
    const json = JSON.stringify(message) as string | undefined;
    if (json === undefined) {
      throw new TypeError(`cannot frame ${typeof message}: it has no JSON text`);
    }
    this.outgoing.add(json, callback);
    if (this.outgoing.isFull) {
      this.writeBatch();
      this.outgoing.clear();
    } else if (!this.flushScheduled) {
      this.flushScheduled = true;
      process.nextTick(this.flush);
    }
  }

  /**
   * Stops delivering frames, and reading the connection, until `resumeFrames`: what the peer
   * sends meanwhile waits in the kernel, and TCP flow control slows the peer down. Called while a
   * frame is delivered, it is the last one delivered. The same pause as while the peer does not
   * read its replies; reading resumes once neither holds it.
   */
  holdFrames(): void {
    if (this.framesHeld || this.rejected) {
      return;
    }
    this.framesHeld = true;
    this.syncReading();
  }

  /** Delivers frames again after `holdFrames`, from the next tick on (after the replies sent in this one). */
  resumeFrames(): void {
    if (!this.framesHeld) {
      return;
    }
    this.framesHeld = false;
    if (this.rejected || !this.isWritable()) {
      return;
    }
    this.readPending = true;
    if (!this.flushScheduled) {
      this.flushScheduled = true;
      process.nextTick(this.flush);
    }
  }

  /** Turns buffered frames into messages until the input runs out or the connection is saturated. */
  private readFrames(): void {
    try {
      while (!this.isSaturated()) {
        const text = this.decoder.next();
        if (text === undefined) {
          break;
        }
        this.dispatch(text);
        if (this.rejected) {
          return;
        }
      }
    } catch (error) {
      this.rejectFor(error);
      return;
    }
    this.syncReading();
    this.frameTimer.sync(this.decoder);
  }

  /** Parses a frame and emits it as a `message`: framing-level checks only (it is JSON, and an object). */
  private dispatch(text: string): void {
    let message: unknown;
    try {
      message = JSON.parse(text);
    } catch (error) {
      this.reject('INVALID_JSON', `${text.length}-unit frame: ${(error as Error).message.slice(0, 120)}`);
      return;
    }
    if (typeof message !== 'object' || message === null || Array.isArray(message)) {
      this.reject(
        'NOT_AN_OBJECT',
        `frame body is ${message === null ? 'null' : Array.isArray(message) ? 'an array' : `a ${typeof message}`}`,
      );
      return;
    }
    this.socket.emit('message', message);
  }

  private isWritable(): boolean {
    return !this.socket.writableEnded && !this.socket.destroyed;
  }

  /** Frames wait while the peer does not read its replies, or while the frames' consumer holds them. */
  private isSaturated(): boolean {
    return this.writeBlocked || this.framesHeld;
  }

  private readonly flush = (): void => {
    this.flushScheduled = false;
    // The socket may have been ended or destroyed since the frames were queued (by its owner, not through `end()`): they are dropped.
    const writable = !this.rejected && this.isWritable();
    if (this.outgoing.size > 0 && writable) {
      this.writeBatch();
    }
    this.outgoing.clear();
    if (!writable) {
      this.outgoing.failCallbacks(this.rejected ? 'connection rejected' : 'connection ended');
    }
    if (this.readPending && !this.rejected) {
      this.readPending = false;
      this.readFrames();
    }
  };

  /** Writes the frames queued; closes the connection if too much then waits for the peer to read. */
  private writeBatch(): void {
    const flushed = this.outgoing.writeTo(this.socket);
    if (!flushed) {
      this.blockWrites();
    }
    const waiting = this.socket.writableLength;
    if (this.settings.maxSendBufferBytes > 0 && waiting > this.settings.maxSendBufferBytes) {
      this.reject(
        'SEND_BUFFER_LIMIT',
        `${waiting} bytes wait for the peer to read, above the limit of ${this.settings.maxSendBufferBytes}`,
        {
          destroy: true,
        },
      );
    }
  }

  /** Stops reading frames until the peer has read what was written. */
  private blockWrites(): void {
    if (this.writeBlocked) {
      return;
    }
    this.writeBlocked = true;
    this.socket.once('drain', () => {
      this.writeBlocked = false;
      if (!this.rejected) {
        this.readFrames();
      }
    });
    this.syncReading();
  }

  /** Leaves the kernel holding (and TCP flow-controlling) what the peer sends while the connection is saturated. */
  private syncReading(): void {
    const saturated = this.isSaturated();
    if (saturated && !this.readPaused) {
      this.readPaused = true;
      this.socket.pause();
    } else if (!saturated && this.readPaused) {
      this.readPaused = false;
      this.socket.resume();
    }
  }

  private readonly onFrameTimeout = (): void => {
    this.reject(
      'INCOMPLETE_FRAME_TIMEOUT',
      `frame incomplete ${this.settings.incompleteFrameTimeoutMs} ms after it began (${this.decoder.bufferedBytes} bytes buffered)`,
      { destroy: true },
    );
  };

  private rejectFor(error: unknown): void {
    if (!(error instanceof FrameRejectedError)) {
      throw error;
    }
    this.reject(error.reason, error.message, { destroy: error.reason === 'BUFFER_LIMIT' });
  }

  /**
   * Reports the peer once and closes the connection. Replies already produced
   * still go out before the FIN unless `destroy` is set (the peer is not reading,
   * or holds too much); a peer that does not close its side is cut off after a grace period.
   * The server strategy calls it too, for a frame that breaks its rules; `onRejection` hears of every one.
   */
  reject(reason: SocketRejectionReason, detail: string, { destroy = false } = {}): void {
    if (this.rejected) {
      return;
    }
    this.rejected = true;
    this.frameTimer.clear();
    const socket = this.socket;
    this.settings.onRejection({ reason, peer: formatPeer(socket), detail });
    if (destroy) {
      socket.destroy();
      return;
    }
    if (this.outgoing.size > 0) {
      this.outgoing.writeTo(socket);
      this.outgoing.clear();
    }
    socket.end();
    if (this.readPaused) {
      this.readPaused = false;
      socket.resume(); // so that the peer's FIN is seen
    }
    void destroyUnlessClosed(socket, REJECT_GRACE_MS);
  }
}
