import type { Socket } from 'node:net';

const HASH = 0x23;
/** Header digits plus `#`: lengths stay far below 10^10. */
const HEADER_MAX_BYTES = 11;
/** Above this many code units a reply's exact UTF-8 size is measured instead of reserving 3 bytes per unit. */
const MEASURE_ABOVE_UNITS = 64 * 1024;
/** Most frames in one write: smaller batches let the peer start on the first replies while the next are made. */
const MAX_BATCH_FRAMES = 16;

export type SendCallback = (error?: unknown) => void;

/**
 * The JSON texts sent since the last write, and the callbacks of their sends: written together
 * as `<length>#<json>` frames, in one buffer and one `socket.write`.
 */
export class OutgoingFrames {
  private readonly frames: string[] = [];
  private readonly callbacks: SendCallback[] = [];

  get size(): number {
    return this.frames.length;
  }

  /** Whether the batch should be written now rather than at the end of the tick. */
  get isFull(): boolean {
    return this.frames.length >= MAX_BATCH_FRAMES;
  }

  add(json: string, callback?: SendCallback): void {
    this.frames.push(json);
    if (callback) {
      this.callbacks.push(callback);
    }
  }

  /** Encodes the frames into one buffer and writes it; returns what `socket.write` does. The frames stay until `clear`. */
  writeTo(socket: Socket): boolean {
    const batch = this.frames;
    const count = batch.length;
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
    return socket.write(out.subarray(0, position), done);
  }

  /** Drops the frames; the callbacks of frames not written stay until `failCallbacks`. */
  clear(): void {
    this.frames.length = 0;
  }

  /** Calls every callback waiting with an error: their frames will never be written. */
  failCallbacks(message: string): void {
    if (this.callbacks.length > 0) {
      const error = new Error(message);
      this.callbacks.splice(0).forEach((callback) => callback(error));
    }
  }
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
