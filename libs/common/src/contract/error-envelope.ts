/** Codes of the error envelope the server replies with. */
export const ErrorCodes = {
  VALIDATION_FAILED: 'VALIDATION_FAILED',
  UNKNOWN_COMMAND: 'UNKNOWN_COMMAND',
  /** Text gateway and UDP: `/call` or `/emit` named no pattern of the contract, or a request pattern with `/emit` (an event with `/call`). */
  UNKNOWN_PATTERN: 'UNKNOWN_PATTERN',
  INVALID_COMMAND_ARGS: 'INVALID_COMMAND_ARGS',
  INTERNAL_ERROR: 'INTERNAL_ERROR',
  /** The server is draining before it stops: the request was not handled, so sending it again (elsewhere, or once reconnected) is safe. */
  SHUTTING_DOWN: 'SHUTTING_DOWN',
  /** Text gateway and UDP: a line longer than the port's limit; the rest of that line is discarded, the connection stays usable. */
  LINE_TOO_LONG: 'LINE_TOO_LONG',
  /** Text gateway and UDP: bytes that are neither valid UTF-8 nor valid GBK (GB18030), or not valid in the connection's encoding. */
  INVALID_TEXT: 'INVALID_TEXT',
  /** UDP: the reply would exceed the amplification bound (UDP_REPLY_FACTOR × the request); send it over TCP. */
  REPLY_TOO_LARGE: 'REPLY_TOO_LARGE',
  /** A bound of the server was reached (a chat room is full, too many rooms); nothing changed. */
  LIMIT_REACHED: 'LIMIT_REACHED',
  /**
   * The handler's response broke the contract (its pattern's response class), so it was not sent;
   * a bug of the server, which logs it. Only with VALIDATE_RESPONSES on (the default outside production).
   */
  INVALID_RESPONSE: 'INVALID_RESPONSE',
} as const;

export type ErrorCode = (typeof ErrorCodes)[keyof typeof ErrorCodes];

export interface FieldViolation {
  /** Path of the offending field, e.g. `text`, `args`, or `(payload)` (`(response)`) for the payload (response) as a whole. */
  field: string;
  /** Failed constraint name to human-readable message, as class-validator reports it. */
  constraints: Record<string, string>;
}

interface ErrorDetailsByCode {
  VALIDATION_FAILED: { violations: FieldViolation[] };
  UNKNOWN_COMMAND: { command: string; knownCommands: string[] };
  /** `knownPatterns`: the patterns the line could have named, the requests for `/call`, the events for `/emit`. */
  UNKNOWN_PATTERN: { pattern: string; knownPatterns: string[] };
  INVALID_COMMAND_ARGS: { command: string; usage: string };
  INTERNAL_ERROR: Record<string, never>;
  SHUTTING_DOWN: { retryable: true };
  LINE_TOO_LONG: { maxLineBytes: number };
  INVALID_TEXT: { encoding: string };
  REPLY_TOO_LARGE: { replyBytes: number; allowedBytes: number };
  LIMIT_REACHED: { limit: string; max: number };
  INVALID_RESPONSE: { pattern: string; violations: FieldViolation[] };
}

/** The one shape every error reply has; `details` depends on `code`. */
export type RpcErrorEnvelope<C extends ErrorCode = ErrorCode> = {
  [K in C]: { code: K; message: string; details: ErrorDetailsByCode[K] };
}[C];

const ERROR_CODE_SET: ReadonlySet<string> = new Set(Object.values(ErrorCodes));

export function isRpcErrorEnvelope(value: unknown): value is RpcErrorEnvelope {
  if (typeof value !== 'object' || value === null) {
    return false;
  }
  const candidate = value as Record<string, unknown>;
  return (
    typeof candidate.code === 'string' &&
    ERROR_CODE_SET.has(candidate.code) &&
    typeof candidate.message === 'string' &&
    typeof candidate.details === 'object' &&
    candidate.details !== null
  );
}
