/**
 * Static payload limits enforced by the DTOs on the server. Text lengths are in
 * UTF-16 code units (JavaScript string length).
 */
export const WireLimits = {
  echoTextMaxLength: 1024 * 1024,
  clientNameMaxLength: 64,
  commandNameMaxLength: 32,
  commandArgsMaxCount: 16,
  commandArgMaxLength: 64 * 1024,
  noteTextMaxLength: 4096,
  /** Keys of a payload object; more are rejected before any other validation runs. */
  payloadMaxKeys: 16,
} as const;

/** Command names: lower-case words joined by dashes, e.g. `upper`, `my-command`. */
export const COMMAND_NAME_PATTERN = /^[a-z][a-z0-9]*(?:-[a-z0-9]+)*$/;

/** JSON writes a control character as six code units (`\u0001`); the framing counts the JSON. */
const JSON_ESCAPE_FACTOR = 6;
const FRAME_OVERHEAD = 4096;

/**
 * The longest frame a valid request can take, in UTF-16 code units of its JSON:
 * the smallest frame limit a server may set without refusing valid requests.
 */
export const MIN_FRAME_LENGTH =
  JSON_ESCAPE_FACTOR * Math.max(WireLimits.echoTextMaxLength, WireLimits.commandArgsMaxCount * WireLimits.commandArgMaxLength) +
  FRAME_OVERHEAD;

/**
 * Defaults of the framed TCP socket (`framedJsonSocket`), shared by the server
 * and the client. Frame lengths are in UTF-16 code units, like the framing's header.
 */
export const TransportDefaults = {
  /** Largest announced frame length accepted. */
  maxFrameLength: 8 * 1024 * 1024,
  /** A frame still incomplete this long after its first byte arrived closes the connection; 0 disables. */
  incompleteFrameTimeoutMs: 10_000,
  /** Bytes of replies that may wait for a peer that does not read them. */
  maxSendBufferBytes: 64 * 1024 * 1024,
  /** Requests of one connection handled at once; further frames wait in the socket (TCP flow control). */
  maxInFlightPerConnection: 256,
  /** Bytes held per connection beyond the frame limit: one read's worth of unparsed input. */
  bufferedBytesMargin: 64 * 1024,
} as const;

/**
 * The default bound of bytes held for one connection: a frame of `maxFrameLength`
 * code units takes at most 3 bytes per unit in UTF-8, plus one read of margin.
 */
export function defaultMaxBufferedBytes(maxFrameLength: number): number {
  return 3 * maxFrameLength + TransportDefaults.bufferedBytesMargin;
}
