// The decoder is internal to the library: a test may read it by its path.
import { FrameDecoder } from '../../libs/common/src/transport/frame-decoder';
import { once } from 'node:events';
import { connect, type Socket } from 'node:net';

const READ_LIMIT_FRAME = 64 * 1024 * 1024;

/**
 * A TCP peer that writes whatever bytes a test gives it, hostile or not, and
 * records what comes back and when the connection ends.
 */
export class RawPeer {
  private readonly received: Buffer[] = [];
  private closedAt: number | undefined;
  /** Settles when the connection is closed, from either side. */
  readonly closed: Promise<void>;
  /** Errors of the connection, e.g. EPIPE or ECONNRESET when the server cut it off. */
  readonly errors: Error[] = [];

  private constructor(readonly socket: Socket) {
    socket.on('data', (chunk: Buffer) => this.received.push(chunk));
    socket.on('error', (error) => this.errors.push(error));
    this.closed = once(socket, 'close').then(() => {
      this.closedAt = performance.now();
    });
  }

  /** `localAddress`: the address to connect from, e.g. `127.0.0.2` to count as another client (per-address limits). */
  static async connect(port: number, host = '127.0.0.1', localAddress?: string): Promise<RawPeer> {
    const socket = connect({ port, host, noDelay: true, ...(localAddress === undefined ? {} : { localAddress }) });
    const peer = new RawPeer(socket);
    await Promise.race([once(socket, 'connect'), peer.closed]);
    return peer;
  }

  get isClosed(): boolean {
    return this.closedAt !== undefined;
  }

  /**
   * Writes and waits until the bytes are handed to the kernel. Resolves with
   * whether they were: a write on a connection the server ended fails without throwing.
   */
  async write(data: string | Buffer): Promise<boolean> {
    if (this.socket.destroyed || this.socket.writableEnded) {
      return false;
    }
    return new Promise<boolean>((resolve) => this.socket.write(data, (error) => resolve(!error)));
  }

  /** Whether the connection closed within `ms`, measured from now. */
  async closesWithin(ms: number): Promise<boolean> {
    let timer: NodeJS.Timeout | undefined;
    const timedOut = new Promise<false>((resolve) => {
      timer = setTimeout(() => resolve(false), ms);
    });
    const result = await Promise.race([this.closed.then(() => true as const), timedOut]);
    clearTimeout(timer);
    return result;
  }

  /** What was received so far, as UTF-8 text. */
  text(): string {
    return Buffer.concat(this.received).toString('utf8');
  }

  /** The frames received so far, parsed. */
  frames(): Array<Record<string, unknown>> {
    const decoder = new FrameDecoder(READ_LIMIT_FRAME, 4 * READ_LIMIT_FRAME);
    const frames: Array<Record<string, unknown>> = [];
    for (const chunk of this.received) {
      decoder.push(chunk);
      for (let text = decoder.next(); text !== undefined; text = decoder.next()) {
        frames.push(JSON.parse(text) as Record<string, unknown>);
      }
    }
    return frames;
  }

  /** Waits until `count` frames have arrived or `timeoutMs` passed; returns those received. */
  async waitForFrames(count: number, timeoutMs: number): Promise<Array<Record<string, unknown>>> {
    const deadline = performance.now() + timeoutMs;
    let frames = this.frames();
    while (frames.length < count && performance.now() < deadline && !this.isClosed) {
      await new Promise((resolve) => setTimeout(resolve, 10));
      frames = this.frames();
    }
    return this.frames();
  }

  destroy(): void {
    this.socket.destroy();
  }

  /** Closes with a TCP RST instead of a FIN. */
  reset(): void {
    this.socket.resetAndDestroy();
  }
}

/** `<length>#<json>` of a value, the length in UTF-16 code units, as stock NestJS frames it. */
export function frameOf(value: unknown): string {
  const json = JSON.stringify(value);
  return `${json.length}#${json}`;
}
