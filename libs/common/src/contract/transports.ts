/** The transports the echo server serves its controllers over. */
export const Transports = {
  /** Nest's TCP transport: `<length>#<json>` frames (the typed client). */
  TCP: 'tcp',
  /** The plain-text line gateway: tutorial clients, `nc`, chat. */
  TEXT: 'text',
  /** UDP datagrams: a text line or one Nest packet as JSON per datagram. */
  UDP: 'udp',
} as const;

export type TransportName = (typeof Transports)[keyof typeof Transports];

export const TRANSPORT_NAMES: readonly TransportName[] = Object.values(Transports);

/** A UDP reply is at most this many times the size of the request that caused it, both counted on the wire. */
export const UDP_REPLY_FACTOR = 3;

/** IPv4 and UDP headers: what a datagram costs on the wire beyond its payload (IPv6 costs 48; 28 is the stricter count). */
export const UDP_HEADER_BYTES = 28;

/**
 * The typed client pads every request datagram to at least this many bytes (trailing JSON
 * whitespace), so that replies up to UDP_REPLY_FACTOR times as large, such as `hello`'s, pass
 * the server's amplification bound. QUIC pads its first datagrams to 1200 bytes for the same reason.
 */
export const UDP_MIN_REQUEST_BYTES = 1200;

/** The largest payload the server replies with to a request datagram of `requestBytes` payload bytes. */
export function udpReplyAllowance(requestBytes: number): number {
  return UDP_REPLY_FACTOR * (requestBytes + UDP_HEADER_BYTES) - UDP_HEADER_BYTES;
}

/** Why the UDP endpoint dropped a datagram without a reply; each has its own count in the server's `stats` and its own metric label. */
export const UDP_DROP_REASONS = [
  /** The datagram has no payload. */
  'EMPTY',
  /** The datagram is larger than UDP_MAX_DATAGRAM_BYTES. */
  'TOO_LARGE',
  /** The datagram opens like JSON (`{`) but is not valid UTF-8: answering would turn each bad byte into U+FFFD, three bytes. */
  'INVALID_UTF8',
  /** The datagram opens like JSON but is not a Nest packet (not JSON, no string pattern, an id that is not a string). */
  'NOT_A_PACKET',
  /** Its reply, even the REPLY_TOO_LARGE error that replaces a large one, would exceed the amplification allowance. */
  'REPLY_OVER_ALLOWANCE',
] as const;

export type UdpDropReason = (typeof UDP_DROP_REASONS)[number];
