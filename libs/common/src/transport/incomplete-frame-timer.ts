import type { FrameDecoder } from './frame-decoder';

/**
 * Gives each frame one deadline from its first read, so that a peer dripping bytes cannot
 * stretch it; `onTimeout` runs when a frame is still incomplete at its deadline.
 */
export class IncompleteFrameTimer {
  private timer: NodeJS.Timeout | undefined;
  private timedFrame = -1;

  /** @param timeoutMs 0 disables the deadline. */
  constructor(
    private readonly timeoutMs: number,
    private readonly onTimeout: () => void,
  ) {}

  /** Starts, keeps or stops the deadline for where the decoder stands. */
  sync(decoder: FrameDecoder): void {
    if (!this.timeoutMs) {
      return;
    }
    if (!decoder.frameInProgress) {
      this.clear();
      return;
    }
    const frame = decoder.framesCompleted;
    if (this.timer !== undefined && this.timedFrame === frame) {
      return;
    }
    this.timedFrame = frame;
    if (this.timer === undefined) {
      this.timer = setTimeout(this.expire, this.timeoutMs);
      this.timer.unref();
    } else {
      this.timer.refresh();
    }
  }

  clear(): void {
    if (this.timer !== undefined) {
      clearTimeout(this.timer);
      this.timer = undefined;
    }
  }

  private readonly expire = (): void => {
    this.timer = undefined;
    this.onTimeout();
  };
}
