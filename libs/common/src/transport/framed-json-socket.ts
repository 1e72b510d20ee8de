import type { Type } from '@nestjs/common';
import { TcpSocket } from '@nestjs/microservices';
import type { Socket } from 'node:net';
import { destroyUnlessClosed } from './destroy-unless-closed';
import { formatPeer } from './format-peer';
import { FrameDecoder } from './frame-decoder';
import { FrameRejectedError } from './frame-rejected.error';
import { resolveFramedJsonSocketOptions, type FramedJsonSocketOptions, type FramedJsonSocketSettings } from './framed-json-socket-options';
import type { SocketRejectionReason } from '../contract/socket-rejection';

const HASH = 0x23;
/** Header digits plus `#`: lengths stay far below 10^10. */
const HEADER_MAX_BYTES = 11;
/** Above this many code units a reply's exact UTF-8 size is measured instead of reserving 3 bytes per unit. */
const MEASURE_ABOVE_UNITS = 64 * 1024;
/**
 * Frames sent within one tick go out in one write, up to this many: with many requests in flight
 * on one connection, a whole tick's batch would make the peers take turns (one works while the
 * other waits for the batch); smaller batches let the peer start on the first ones meanwhile.
 */
const MAX_BATCH_FRAMES = 16;
/** How long a rejected peer has to close its side after the server ended the connection. */
const REJECT_GRACE_MS = 1_000;

type SendCallback = (error?: unknown) => void;

/**
 * A `TcpSocket` of Nest's TCP transport speaking the stock `JsonSocket` wire
 * format (`<length>#<json>`, length in UTF-16 code units) with hardened limits
 * and a faster path; plug it in with `framedJsonSocket()` as `socketClass`.
 *
 * Reading: frames are cut in linear time by `FrameDecoder`; a peer that breaks
 * the framing is rejected with a reason at the first offending byte. Writing:
 * the frames sent within one tick go out in one buffer and one write, 16 at most.
 *
 * It knows frames, not requests: rules about what a frame asks for (a pattern, a
 * request id, how many requests may wait for their reply) are the server strategy's,
 * which uses `reject` and `holdFrames`/`resumeFrames` to enforce them.
 */
export class FramedJsonSocket extends TcpSocket {
  private readonly decoder: FrameDecoder;
  private readonly outgoing: string[] = [];
  private readonly callbacks: SendCallback[] = [];
  private flushScheduled = false;
  private writeBlocked = false;
  private framesHeld = false;
  private readPaused = false;
  private readPending = false;
  private rejected = false;
  private frameTimer: NodeJS.Timeout | undefined;
  private timedFrame = -1;

  constructor(
    socket: Socket,
    private readonly settings: FramedJsonSocketSettings = resolveFramedJsonSocketOptions(),
  ) {
    super(socket);
    this.decoder = new FrameDecoder(settings.maxFrameLength, settings.maxBufferedBytes);
    if (settings.noDelay) {
      socket.setNoDelay(true);
    }
    socket.on('close', () => this.clearFrameTimer());
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
    if (this.outgoing.length > 0 && this.isWritable()) {
      this.writeBatch(this.outgoing, this.outgoing.length);
    }
    this.outgoing.length = 0;
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
    this.outgoing.push(json);
    if (callback) {
      this.callbacks.push(callback);
    }
    if (this.outgoing.length >= MAX_BATCH_FRAMES) {
      this.writeBatch(this.outgoing, this.outgoing.length);
      this.outgoing.length = 0;
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
    this.syncFrameTimer();
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
    const batch = this.outgoing;
    const count = batch.length;
    // The socket may have been ended or destroyed since the frames were queued (by its owner, not through `end()`): they are dropped.
    const writable = !this.rejected && this.isWritable();
    if (count > 0 && writable) {
      this.writeBatch(batch, count);
    }
    batch.length = 0;
    if (!writable && this.callbacks.length > 0) {
      const error = new Error(this.rejected ? 'connection rejected' : 'connection ended');
      this.callbacks.splice(0).forEach((callback) => callback(error));
    }
    if (this.readPending && !this.rejected) {
      this.readPending = false;
      this.readFrames();
    }
  };

  private writeBatch(batch: string[], count: number): void {
    const flushed = this.writeFrames(batch, count);
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

  /** Encodes the frames into one buffer and writes it; returns what `socket.write` does. */
  private writeFrames(batch: string[], count: number): boolean {
    let size = 0;
    for (let k = 0; k < count; k += 1) {
      const units = batch[k].length;
      size += HEADER_MAX_BYTES + (units > MEASURE_ABOVE_UNITS ? Buffer.byteLength(batch[k]) : 3 * units);
    }
    const out = Buffer.allocUnsafe(size);
    let position = 0;
    for (let k = 0; k < count; k += 1) {
      const json = batch[k];
      position = writeDecimal(out, position, json.length);
      out[position++] = HASH;
      position += out.write(json, position);
    }
    const callbacks = this.callbacks.length > 0 ? this.callbacks.splice(0) : undefined;
    const done = callbacks && ((error?: unknown) => callbacks.forEach((callback) => callback(error ?? undefined)));
    return this.socket.write(out.subarray(0, position), done);
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

  /** Gives each frame one deadline from its first read, so that a peer dripping bytes cannot stretch it. */
  private syncFrameTimer(): void {
    if (!this.settings.incompleteFrameTimeoutMs) {
      return;
    }
    if (!this.decoder.frameInProgress) {
      this.clearFrameTimer();
      return;
    }
    const frame = this.decoder.framesCompleted;
    if (this.frameTimer !== undefined && this.timedFrame === frame) {
      return;
    }
    this.timedFrame = frame;
    if (this.frameTimer === undefined) {
      this.frameTimer = setTimeout(this.onFrameTimeout, this.settings.incompleteFrameTimeoutMs);
      this.frameTimer.unref();
    } else {
      this.frameTimer.refresh();
    }
  }

  private readonly onFrameTimeout = (): void => {
    this.frameTimer = undefined;
    this.reject(
      'INCOMPLETE_FRAME_TIMEOUT',
      `frame incomplete ${this.settings.incompleteFrameTimeoutMs} ms after it began (${this.decoder.bufferedBytes} bytes buffered)`,
      { destroy: true },
    );
  };

  private clearFrameTimer(): void {
    if (this.frameTimer !== undefined) {
      clearTimeout(this.frameTimer);
      this.frameTimer = undefined;
    }
  }

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
    this.clearFrameTimer();
    const socket = this.socket;
    this.settings.onRejection({ reason, peer: formatPeer(socket), detail });
    if (destroy) {
      socket.destroy();
      return;
    }
    if (this.outgoing.length > 0) {
      this.writeFrames(this.outgoing, this.outgoing.length);
      this.outgoing.length = 0;
    }
    socket.end();
    if (this.readPaused) {
      this.readPaused = false;
      socket.resume(); // so that the peer's FIN is seen
    }
    void destroyUnlessClosed(socket, REJECT_GRACE_MS);
  }
}

/** A `socketClass` for Nest's TCP transport (server or client) with these limits. */
export function framedJsonSocket(options?: FramedJsonSocketOptions): Type<FramedJsonSocket> {
  const settings = resolveFramedJsonSocketOptions(options);
  return class ConfiguredFramedJsonSocket extends FramedJsonSocket {
    constructor(socket: Socket) {
      super(socket, settings);
    }
  };
}

/** Writes `value` in decimal ASCII at `position`; returns the position after it. */
function writeDecimal(out: Buffer, position: number, value: number): number {
  let digits = 1;
  for (let rest = value; rest >= 10; rest = Math.floor(rest / 10)) {
    digits += 1;
  }
  let cursor = position + digits;
  for (let rest = value; cursor > position; rest = Math.floor(rest / 10)) {
    out[--cursor] = 0x30 + (rest % 10);
  }
  return position + digits;
}
