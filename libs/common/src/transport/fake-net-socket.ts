import { EventEmitter } from 'node:events';
import type { Socket } from 'node:net';

/**
 * Just enough of a `net.Socket` for the framed socket in unit tests: records
 * what is written and how the connection was closed. `writeResult` plays the
 * kernel buffer being full.
 */
export class FakeNetSocket extends EventEmitter {
  remoteAddress = '127.0.0.1';
  remotePort = 40_000;
  readonly written: Buffer[] = [];
  writableLength = 0;
  writeResult = true;
  paused = false;
  ended = false;
  destroyed = false;
  noDelay = false;

  setNoDelay(enable: boolean): this {
    this.noDelay = enable;
    return this;
  }

  write(data: Buffer, callback?: (error?: Error) => void): boolean {
    this.written.push(Buffer.from(data));
    callback?.();
    return this.writeResult;
  }

  pause(): this {
    this.paused = true;
    return this;
  }

  resume(): this {
    this.paused = false;
    return this;
  }

  end(): this {
    this.ended = true;
    return this;
  }

  destroy(): this {
    this.destroyed = true;
    return this;
  }

  /** Everything written so far, as one buffer. */
  output(): Buffer {
    return Buffer.concat(this.written);
  }

  asSocket(): Socket {
    return this as unknown as Socket;
  }
}
