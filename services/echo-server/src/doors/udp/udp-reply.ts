import { ErrorCodes, type RpcErrorEnvelope } from '@echo-pair/common';

/** A reply to a datagram, and how its door words the REPLY_TOO_LARGE error that replaces it when it is too large. */
export interface UdpAnswer {
  bytes: Buffer;
  tooLarge(error: RpcErrorEnvelope): Buffer;
}

/** What goes back: the reply, or its REPLY_TOO_LARGE replacement (`replaced`). */
export interface BoundedReply {
  bytes: Buffer;
  replaced: boolean;
}

/**
 * The datagram to send for `answer` within `allowance` bytes: the reply if it fits, else its
 * REPLY_TOO_LARGE replacement if that fits, else nothing (undefined): every datagram sent is
 * held to the allowance, the replacement included.
 */
export function boundedReply(answer: UdpAnswer, allowance: number): BoundedReply | undefined {
  if (answer.bytes.length <= allowance) {
    return { bytes: answer.bytes, replaced: false };
  }
  const error: RpcErrorEnvelope = {
    code: ErrorCodes.REPLY_TOO_LARGE,
    message: 'use TCP',
    details: { replyBytes: answer.bytes.length, allowedBytes: allowance },
  };
  const replacement = answer.tooLarge(error);
  return replacement.length <= allowance ? { bytes: replacement, replaced: true } : undefined;
}
