import type { SocketRejectionReason } from '../contract/socket-rejection';

/** Thrown by the frame decoder when the byte stream breaks the framing. */
export class FrameRejectedError extends Error {
  override readonly name = 'FrameRejectedError';

  constructor(
    readonly reason: SocketRejectionReason,
    detail: string,
  ) {
    super(detail);
  }
}
