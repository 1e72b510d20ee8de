/**
 * Static payload limits enforced by the DTOs on the server. Text lengths are in
 * UTF-16 code units (JavaScript string length), the unit the TCP framing counts in.
 */
export const WireLimits = {
  echoTextMaxLength: 4 * 1024 * 1024,
  clientNameMaxLength: 64,
  commandNameMaxLength: 32,
  commandArgsMaxCount: 16,
  commandArgMaxLength: 64 * 1024,
  noteTextMaxLength: 4096,
} as const;

/** Command names: lower-case words joined by dashes, e.g. `upper`, `my-command`. */
export const COMMAND_NAME_PATTERN = /^[a-z][a-z0-9]*(?:-[a-z0-9]+)*$/;
