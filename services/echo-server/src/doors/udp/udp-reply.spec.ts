import { ErrorCodes, udpReplyAllowance, type RpcErrorEnvelope } from '@echo-pair/common';
import { boundedReply, type UdpAnswer } from './udp-reply';

function answer(replyBytes: number, replacementBytes: number): UdpAnswer & { tooLarge: jest.Mock<Buffer, [RpcErrorEnvelope]> } {
  return { bytes: Buffer.alloc(replyBytes, 'r'), tooLarge: jest.fn((_error: RpcErrorEnvelope) => Buffer.alloc(replacementBytes, 'e')) };
}

describe('boundedReply', () => {
  const allowance = udpReplyAllowance(10); // 86 bytes

  it('sends a reply that fits as it is, up to the allowance exactly', () => {
    const fits = answer(allowance, 1);
    expect(boundedReply(fits, allowance)).toEqual({ bytes: fits.bytes, replaced: false });
    expect(fits.tooLarge).not.toHaveBeenCalled();
  });

  it('replaces a larger reply with its REPLY_TOO_LARGE error when that fits, naming both sizes', () => {
    const large = answer(allowance + 1, allowance);
    expect(boundedReply(large, allowance)).toEqual({ bytes: Buffer.alloc(allowance, 'e'), replaced: true });
    expect(large.tooLarge).toHaveBeenCalledWith({
      code: ErrorCodes.REPLY_TOO_LARGE,
      message: 'use TCP',
      details: { replyBytes: allowance + 1, allowedBytes: allowance },
    });
  });

  it('sends nothing when not even the REPLY_TOO_LARGE error fits (the worst case: a tiny request, a replacement that carries a large id)', () => {
    expect(boundedReply(answer(allowance + 1, allowance + 1), allowance)).toBeUndefined();
    expect(boundedReply(answer(100_000, 3_000), udpReplyAllowance(1))).toBeUndefined();
  });
});
