import type { ClientAddress } from './client-address';
import { canonicalIPv6, incomplete, invalid, type ProxyHeaderResult } from './proxy-header-result';

/** The fixed part: signature (12), version and command (1), family and transport (1), length (2). */
const V2_FIXED_LENGTH = 16;

const COMMAND_LOCAL = 0x0;
const COMMAND_PROXY = 0x1;
const FAMILY_UNSPEC = 0x0;
const FAMILY_INET = 0x1;
const FAMILY_INET6 = 0x2;
const FAMILY_UNIX = 0x3;
const TRANSPORT_UNSPEC = 0x0;
const TRANSPORT_DGRAM = 0x2;

/** The address block each family needs (two addresses, then two ports for INET and INET6). */
const ADDRESS_BLOCK: Record<number, { name: string; length: number }> = {
  [FAMILY_UNSPEC]: { name: 'AF_UNSPEC', length: 0 },
  [FAMILY_INET]: { name: 'AF_INET', length: 2 * 4 + 2 * 2 },
  [FAMILY_INET6]: { name: 'AF_INET6', length: 2 * 16 + 2 * 2 },
  [FAMILY_UNIX]: { name: 'AF_UNIX', length: 2 * 108 },
};

/**
 * Version 2, binary, from bytes that begin with its 12-byte signature. Strict: version 2, command
 * LOCAL or PROXY, a known family and transport, a length that holds the family's address block
 * (what it holds beyond, the TLVs, is skipped unread). LOCAL (a proxy's own connection, e.g. its
 * health check) and PROXY over AF_UNSPEC, AF_UNIX or an unspecified transport keep the socket's own
 * peer, as the specification says; PROXY over DGRAM (UDP) on this stream connection is invalid.
 */
export function parseV2(bytes: Buffer): ProxyHeaderResult {
  if (bytes.length < V2_FIXED_LENGTH) {
    return incomplete(V2_FIXED_LENGTH);
  }
  const version = bytes[12] >> 4;
  const command = bytes[12] & 0x0f;
  if (version !== 2) {
    return invalid(`v2 header has version ${version} (2 expected)`);
  }
  if (command !== COMMAND_LOCAL && command !== COMMAND_PROXY) {
    return invalid(`v2 header has command 0x${command.toString(16)} (LOCAL 0x0 or PROXY 0x1 expected)`);
  }
  const family = bytes[13] >> 4;
  const transport = bytes[13] & 0x0f;
  const block = ADDRESS_BLOCK[family];
  if (block === undefined) {
    return invalid(`v2 header has address family 0x${family.toString(16)} (0x0 to 0x3 expected)`);
  }
  if (transport > TRANSPORT_DGRAM) {
    return invalid(`v2 header has transport protocol 0x${transport.toString(16)} (0x0 to 0x2 expected)`);
  }
  const length = bytes.readUInt16BE(14);
  // LOCAL ignores the family (the specification), so only PROXY is held to its address block.
  if (command === COMMAND_PROXY && length < block.length) {
    return invalid(`v2 header length ${length} is shorter than the ${block.name} address block (${block.length} bytes)`);
  }
  const headerLength = V2_FIXED_LENGTH + length;
  if (bytes.length < headerLength) {
    return incomplete(headerLength);
  }
  if (command === COMMAND_PROXY && transport === TRANSPORT_DGRAM) {
    return invalid('v2 header announces a datagram (DGRAM) connection on a stream connection');
  }
  const proxied = command === COMMAND_PROXY && transport !== TRANSPORT_UNSPEC;
  return { status: 'complete', version: 2, headerLength, client: proxied ? sourceOf(family, bytes) : null };
}

/** The source address and port of an INET or INET6 block; null for the families that name no IP client. */
function sourceOf(family: number, bytes: Buffer): ClientAddress | null {
  const start = V2_FIXED_LENGTH;
  if (family === FAMILY_INET) {
    return { address: [...bytes.subarray(start, start + 4)].join('.'), port: bytes.readUInt16BE(start + 8), family: 'IPv4' };
  }
  if (family === FAMILY_INET6) {
    const groups = Array.from({ length: 8 }, (_, group) => bytes.readUInt16BE(start + 2 * group).toString(16));
    return { address: canonicalIPv6(groups.join(':')), port: bytes.readUInt16BE(start + 32), family: 'IPv6' };
  }
  return null;
}
