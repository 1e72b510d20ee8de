import { ErrorCodes, type RequestPattern, type RpcErrorEnvelope } from '@echo-pair/common';
import type { CallOutcome } from '../gateway-server';
import { replyTextOf, UDP_HELP } from '../text/reply-text';
import { errorLine } from '../text/text-line';

/** Nest's reply to a request whose pattern has no handler, as its TCP transport words it. */
const NO_MESSAGE_HANDLER = 'There is no matching message handler defined in the remote service.';

/**
 * The reply datagram to a Nest packet, as Nest's TCP transport writes it: `{id, response,
 * isDisposed}` or `{id, err, isDisposed}`; `undefined` as the outcome: no handler for the pattern.
 * The wrapper object is kept: JSON.stringify of it measured no slower than joining the parts by
 * hand (issue 20), and its bytes are the stock ones by construction.
 */
export function packetReply(id: string, outcome: CallOutcome | undefined): Buffer {
  const reply =
    outcome === undefined
      ? { id, err: NO_MESSAGE_HANDLER, isDisposed: true }
      : outcome.ok
        ? { id, response: outcome.response, isDisposed: true }
        : { id, err: outcome.error, isDisposed: true };
  return Buffer.from(JSON.stringify(reply));
}

/** The error that replaces a reply of `replyBytes` over its request's allowance. */
export function replyTooLargeError(replyBytes: number, allowedBytes: number): RpcErrorEnvelope {
  return { code: ErrorCodes.REPLY_TOO_LARGE, message: 'use TCP', details: { replyBytes, allowedBytes } };
}

/**
 * The datagram to send for the reply `bytes` within `allowance` bytes: `bytes` itself if it fits,
 * else its REPLY_TOO_LARGE replacement if that fits, else nothing (undefined): every datagram sent
 * is held to the allowance, the replacement included. The replacement is worded for a Nest packet
 * when `packetId` is given (`{id, err, isDisposed}`), else as a text line (`ERR REPLY_TOO_LARGE …`).
 * A result other than `bytes` is the replacement.
 */
export function withinAllowance(bytes: Buffer, allowance: number, packetId: string | undefined): Buffer | undefined {
  if (bytes.length <= allowance) {
    return bytes;
  }
  const error = replyTooLargeError(bytes.length, allowance);
  const replacement = packetId === undefined ? Buffer.from(`${errorLine(error)}\n`) : packetReply(packetId, { ok: false, error });
  return replacement.length <= allowance ? replacement : undefined;
}

/** The reply line to an echo or command text line: what the handler answered, or its error. */
export function textReplyLine(pattern: RequestPattern, request: object, outcome: CallOutcome): string {
  return outcome.ok ? replyTextOf(pattern, request, outcome.response, UDP_HELP) : errorLine(outcome.error);
}
