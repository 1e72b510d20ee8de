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
