import { incomplete, type ProxyHeaderResult } from './proxy-header-result';
import { parseV1 } from './proxy-header-v1';
import { parseV2 } from './proxy-header-v2';

/** `\r\n\r\n\0\r\nQUIT\n`, the first 12 bytes of every v2 header. */
export const V2_SIGNATURE = Buffer.from([0x0d, 0x0a, 0x0d, 0x0a, 0x00, 0x0d, 0x0a, 0x51, 0x55, 0x49, 0x54, 0x0a]);
/** `PROXY ` and the protocol after it: how every v1 header begins. */
const V1_SIGNATURE = Buffer.from('PROXY ', 'latin1');

/**
 * Parses a PROXY protocol header (v1 or v2) from the bytes a connection has received so far, all of
 * them from its first byte: call it again with more bytes while it answers `incomplete`. The
 * version is told by the first bytes (no guessing from content beyond the signatures), so a
 * client that speaks straight away is `absent` from its first byte that matches no signature.
 */
export function parseProxyHeader(bytes: Buffer): ProxyHeaderResult {
  if (beginsLike(bytes, V2_SIGNATURE)) {
    return bytes.length < V2_SIGNATURE.length ? incomplete(bytes.length + 1) : parseV2(bytes);
  }
  if (beginsLike(bytes, V1_SIGNATURE)) {
    return bytes.length < V1_SIGNATURE.length ? incomplete(bytes.length + 1) : parseV1(bytes);
  }
  return { status: 'absent', reason: 'the connection did not begin with a PROXY protocol header' };
}

/** The bytes so far agree with `signature` (all of them, or all of the signature); one byte more may tell them apart. */
function beginsLike(bytes: Buffer, signature: Buffer): boolean {
  const compared = Math.min(bytes.length, signature.length);
  return bytes.subarray(0, compared).equals(signature.subarray(0, compared));
}
