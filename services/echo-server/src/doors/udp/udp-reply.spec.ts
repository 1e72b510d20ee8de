import { ErrorCodes, udpReplyAllowance } from '@echo-pair/common';
import { packetReply, replyTooLargeError, withinAllowance } from './udp-reply';

describe('withinAllowance', () => {
  const allowance = udpReplyAllowance(10); // 86 bytes

  it('sends a reply that fits as it is (the same buffer), up to the allowance exactly', () => {
    const fits = Buffer.alloc(allowance, 'r');
    expect(withinAllowance(fits, allowance, 'id')).toBe(fits);
    expect(withinAllowance(fits, allowance, undefined)).toBe(fits);
  });

  it('replaces a larger text reply with its REPLY_TOO_LARGE line when that fits', () => {
    expect(withinAllowance(Buffer.alloc(allowance + 1, 'r'), allowance, undefined)?.toString('utf8')).toBe('ERR REPLY_TOO_LARGE use TCP\n');
  });

  it('replaces a larger packet reply with its REPLY_TOO_LARGE packet, naming both sizes, when that fits', () => {
    const replacement = withinAllowance(Buffer.alloc(500, 'r'), 200, 'r1');
    expect(replacement?.toString('utf8')).toBe(
      '{"id":"r1","err":{"code":"REPLY_TOO_LARGE","message":"use TCP","details":{"replyBytes":500,"allowedBytes":200}},"isDisposed":true}',
    );
  });

  it('sends nothing when not even the REPLY_TOO_LARGE error fits (a tiny request, a replacement that carries a large id)', () => {
    expect(withinAllowance(Buffer.alloc(allowance + 1), allowance, 'x'.repeat(100))).toBeUndefined();
    expect(withinAllowance(Buffer.alloc(100_000), udpReplyAllowance(1), 'id')).toBeUndefined();
  });
});

describe('packetReply', () => {
  it('writes the packet as Nest TCP does: id, response or err, isDisposed, in that order', () => {
    expect(String(packetReply('a', { ok: true, response: { text: 'x' } }))).toBe('{"id":"a","response":{"text":"x"},"isDisposed":true}');
    expect(String(packetReply('a', { ok: true, response: undefined }))).toBe('{"id":"a","isDisposed":true}');
    expect(String(packetReply('a', { ok: false, error: replyTooLargeError(3, 2) }))).toBe(
      `{"id":"a","err":{"code":"${ErrorCodes.REPLY_TOO_LARGE}","message":"use TCP","details":{"replyBytes":3,"allowedBytes":2}},"isDisposed":true}`,
    );
    expect(String(packetReply('a', undefined))).toBe(
      '{"id":"a","err":"There is no matching message handler defined in the remote service.","isDisposed":true}',
    );
  });
});
