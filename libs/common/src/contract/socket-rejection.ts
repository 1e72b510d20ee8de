/**
 * Why a connection was closed by the framed socket, or by the server through it (the frame
 * broke a request rule). Each has its own code in the log line and its own counter in the server's `stats`.
 */
export const SOCKET_REJECTION_REASONS = [
  /** The header is not 1–N digits (no leading zero) followed by `#`. */
  'BAD_HEADER',
  /** The announced length is above the maximum frame length; seen while the header digits arrive. */
  'FRAME_TOO_LONG',
  /** A frame stayed incomplete for longer than the incomplete-frame timeout. */
  'INCOMPLETE_FRAME_TIMEOUT',
  /** More bytes were held for the connection than the buffered-bytes limit. */
  'BUFFER_LIMIT',
  /** The frame body is not well-formed UTF-8. */
  'INVALID_UTF8',
  /** The announced length ends inside a character taking two UTF-16 code units. */
  'SPLIT_CHARACTER',
  /** The frame body is not JSON. */
  'INVALID_JSON',
  /** The frame body is JSON but not an object (null, a number, an array…). */
  'NOT_AN_OBJECT',
  /** The frame is an object without a `pattern` (checked by the server strategy): Nest would drop it without a reply. */
  'NO_PATTERN',
  /** A request reused the id of a request of the same connection still in flight (checked by the server strategy). */
  'DUPLICATE_REQUEST_ID',
  /** The peer reads its replies too slowly: more than the send-buffer limit waits for it. */
  'SEND_BUFFER_LIMIT',
  /** A TLS handshake failed: plain TCP, no client certificate, one from another CA, a timeout (TLS servers only). */
  'TLS_HANDSHAKE_REFUSED',
  /** With PROXY_PROTOCOL on: a trusted proxy's connection sent no valid PROXY header in time (checked by the server's doors). */
  'PROXY_HEADER_REFUSED',
] as const;

export type SocketRejectionReason = (typeof SOCKET_REJECTION_REASONS)[number];

/** One rejected connection, as reported to `onRejection`. */
export interface SocketRejection {
  reason: SocketRejectionReason;
  /** `127.0.0.1:5050` or `[::1]:5050`. */
  peer: string;
  /** What exactly was wrong, for the log; never the peer's raw bytes beyond a short excerpt. */
  detail: string;
}
